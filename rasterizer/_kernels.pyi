import numpy as np
import numpy.typing as npt

def dither_and_pack(gray: npt.NDArray[np.uint8], dither: str, bit_order: str, /) -> bytes: ...
