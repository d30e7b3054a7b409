"""A wake word detector for wyoming-satellite's --wake-command that fires once: it reads the audio
the satellite sends on stdin and, at the first chunk after the file GO exists, prints a detection
(a line with the wake word's name) and creates the file DETECTED; then it only reads.

    python fake_wake.py GO DETECTED
"""

import sys
from pathlib import Path


def main() -> None:
    go, detected = Path(sys.argv[1]), Path(sys.argv[2])
    fired = False
    while sys.stdin.buffer.read1(4096):
        if not fired and go.exists():
            fired = True
            sys.stdout.write("fake_wake_word\n")
            sys.stdout.flush()
            detected.touch()


if __name__ == "__main__":
    main()
