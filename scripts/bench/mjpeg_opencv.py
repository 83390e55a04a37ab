"""OpenCV's way from an MJPEG frame to a 300x300 RGB detector input, for scripts/bench-mjpeg.sh.

cv2.imdecode (libjpeg-turbo), at half size (IMREAD_REDUCED_COLOR_2) where that still covers
300x300, then cv2.resize (INTER_LINEAR) and BGR -> RGB; one thread. Prints `case opencv ms`
lines: the median thread CPU time of ROUNDS calls per frame file in DIR (as picket's side
measures it: time preempted by other work does not count).
"""
import pathlib
import sys
import time

import cv2
import numpy as np

OUT = 300


def median_ms(rounds, f):
    for _ in range(5):
        f()
    t = []
    for _ in range(rounds):
        start = time.thread_time()
        f()
        t.append((time.thread_time() - start) * 1e3)
    t.sort()
    return t[len(t) // 2]


def main():
    cv2.setNumThreads(1)
    d = pathlib.Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 51
    for case in ("640x480", "1280x720"):
        data = np.frombuffer((d / f"{case}.jpg").read_bytes(), dtype=np.uint8)
        h = int(case.split("x")[1])
        flag = cv2.IMREAD_REDUCED_COLOR_2 if h // 2 >= OUT else cv2.IMREAD_COLOR

        def run():
            img = cv2.imdecode(data, flag)
            small = cv2.resize(img, (OUT, OUT), interpolation=cv2.INTER_LINEAR)
            return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)

        assert run().shape == (OUT, OUT, 3)
        print(f"{case} opencv {median_ms(rounds, run):.4f}")


main()
