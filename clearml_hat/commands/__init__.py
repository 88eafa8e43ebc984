"""The commands behind the command-line edge (cli.py): run (hat.py), yaml (argparse_to_yaml.py) and init.

Each takes parsed options and a Console and returns an exit code or raises HatError; cli.py prints the errors.
"""
