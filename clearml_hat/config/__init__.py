"""A training script's config system: read its options, check values against them, and turn values into the
command line it parses. job.py is what the rest of the hat uses; argparser/ reads argparse parsers.
"""
