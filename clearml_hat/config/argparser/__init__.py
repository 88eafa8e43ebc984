"""The argparse backend: capture the script's parser (capture.py, stand_ins.py, missing_packages.py;
static_parser.py when the script stops before it), one model of a parser key (parser_keys.py) read by describe
(parser_values.py), check (check.py) and argv (argv.py).
"""
