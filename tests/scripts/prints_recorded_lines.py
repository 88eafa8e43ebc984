"""A training stand-in that prints a recorded framework output (tests/framework_lines/*.txt) exactly as it was
written: every `\\r` redraw and newline kept, one write per line, the way the framework wrote it."""
import argparse
import re
import sys
import time


def main(args=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", required=True, help="a recorded output")
    parser.add_argument("--stream", default="stdout", choices=["stdout", "stderr"])
    parser.add_argument("--pause", type=float, default=0.0, help="seconds between lines")
    options = parser.parse_args(args)
    with open(options.lines, encoding="utf-8", newline="") as recorded:
        text = recorded.read()
    stream = getattr(sys, options.stream)
    for line in re.split(r"(?<=\n)", text):
        stream.write(line)
        stream.flush()
        time.sleep(options.pause)


if __name__ == "__main__":
    main()
