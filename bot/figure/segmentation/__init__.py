"""Find the person in a photo: a soft subject mask and the main face box, fully offline.

Two bundled MediaPipe models run on the CPU through ``ai_edge_litert``: the general selfie
segmenter (256x256, RGB in [0, 1]) and BlazeFace short range (128x128, RGB in [-1, 1]).
Both are loaded on first use. When they cannot run, or find nobody, the mask is a soft
rounded frame around the middle of the photo, so the whole picture becomes the diorama.
In a group photo every face is counted and the largest, most central one is the subject.

- ``person``: ``find_person`` and its ``Cutout``, the one entry point.
- ``runtime``: loading the two models once and running them, thread-safe.
- ``letterbox``: fitting a crop of the photo into a square model input, and mapping boxes back.
- ``blazeface``: decoding the face detector's output into merged face boxes.
- ``faces``: which detected faces are real people, checked close up, the main one first.
- ``cutout_mask``: the main person's soft mask from the segmenter's map, and the fallback frame.
"""
