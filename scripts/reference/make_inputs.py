"""Makes the committed 300x300 RGB parity inputs from real media.

Each input is the whole source image stretched (not letterboxed) to the model's 300x300 with
OpenCV's INTER_AREA, saved as a lossless PNG, so both the Rust tests and the reference read the
very same tensor bytes.

usage: make_inputs.py MEDIA_DIR OUT_DIR
"""

import json
import os
import sys

import cv2

SIZE = 300
# Frames of vtest.avi not used to calibrate the quantized model (that used frames n % 10 in {3, 7}).
VTEST_FRAMES = [0, 80, 160, 240, 320, 400, 480, 560, 640, 720]


def save(out_dir, name, bgr, source):
    small = cv2.resize(bgr, (SIZE, SIZE), interpolation=cv2.INTER_AREA)
    cv2.imwrite(os.path.join(out_dir, name), small)
    return {"input": name, "source": source, "width": bgr.shape[1], "height": bgr.shape[0]}


def main():
    media, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    index = []
    img = cv2.imread(os.path.join(media, "person.jpg"), cv2.IMREAD_COLOR)
    index.append(save(out, "person.png", img, "darknet person.jpg"))
    img = cv2.imread(os.path.join(media, "astronaut.png"), cv2.IMREAD_COLOR)
    index.append(save(out, "astronaut.png", img, "scikit-image astronaut.png"))
    cap = cv2.VideoCapture(os.path.join(media, "vtest.avi"))
    n = 0
    want = set(VTEST_FRAMES)
    while want:
        ok, frame = cap.read()
        if not ok:
            sys.exit(f"vtest.avi ended before frames {sorted(want)}")
        if n in want:
            index.append(save(out, f"vtest_{n:03}.png", frame, f"opencv-doc vtest.avi frame {n}"))
            want.discard(n)
        n += 1
    with open(os.path.join(out, "index.json"), "w") as f:
        json.dump(index, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
