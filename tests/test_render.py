"""Annotated images sized for the screen, one face numbering, the display helpers, and a host left alone."""

import subprocess
import sys

import cv2
import numpy as np
import pytest
from PIL import Image

from agegender import read_image
from agegender.apps.charts import age_histogram
from agegender.apps.faces import Selection, faces_table
from agegender.apps.ui import problem
from agegender.inference.render import LANDMARK_FACE_PX, UNSURE, annotate, gender_text, layout, overlap
from agegender.paths import REPO, data_root
from tests.conftest import HOPPER, SCREENSHOTS

CROWD = (data_root() / "widerface_dev" / "images" / "12--Group"
         / "12_Group_Team_Organized_Group_12_Group_Team_Organized_Group_12_186.jpg")


def text_heights(image: np.ndarray, plan) -> list[int]:
    """The height in image pixels of the white text drawn inside each label's box."""
    heights = []
    for label in plan.labels:
        x0, y0, x1, y1 = label.rect
        white = (image[y0:y1, x0:x1] > 200).all(axis=2).any(axis=1).nonzero()[0]
        heights.append(int(white[-1] - white[0] + 1) if len(white) else 0)
    return heights


def rendered(image, result, shown: int, name: str):
    """The annotated image, its layout and its labels' text heights in screen pixels at `shown` px wide."""
    drawn = annotate(image, result.faces, display_width=shown)
    plan = layout(result.faces, (image.shape[1], image.shape[0]), display_width=shown)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    on_screen = cv2.resize(drawn, (shown, round(drawn.shape[0] * shown / drawn.shape[1])), interpolation=cv2.INTER_AREA)
    Image.fromarray(on_screen).save(SCREENSHOTS / f"{name}.png")
    return drawn, plan, [h * shown / image.shape[1] for h in text_heights(drawn, plan)]


def test_a_small_portrait_shown_larger_gets_readable_labels(estimator):
    photo = read_image(HOPPER)
    portrait = cv2.resize(photo, (224, round(photo.shape[0] * 224 / photo.shape[1])), interpolation=cv2.INTER_AREA)
    result = estimator.analyze_batch([portrait])[0]
    drawn, plan, heights = rendered(portrait, result, 300, "labels_portrait_224px_at_300px")
    print(f"portrait 224 px shown at 300 px: text {heights} px on screen, font {plan.font_size} px in the image")
    assert len(result.faces) == 1 and not plan.compact and plan.labels[0].text.startswith("#1 ")
    assert min(heights) >= 11, heights
    assert result.faces[0].width * 300 / 224 >= LANDMARK_FACE_PX
    assert not np.array_equal(drawn, annotate(portrait, result.faces, landmarks=False, display_width=300))


@pytest.mark.skipif(not CROWD.is_file(), reason="widerface_dev is not in the data folder")
def test_a_crowd_gets_numbers_that_do_not_overlap(estimator):
    crowd = read_image(CROWD)
    result = estimator.analyze_batch([crowd])[0]
    drawn, plan, heights = rendered(crowd, result, 1000, "labels_crowd_46_faces_at_1000px")
    overlaps = sum(overlap(a.rect, b.rect) > 0 for i, a in enumerate(plan.labels) for b in plan.labels[i + 1 :])
    print(f"crowd of {len(result.faces)} faces shown at 1000 px: compact {plan.compact}, text {min(heights):.1f}-"
          f"{max(heights):.1f} px on screen, {overlaps} overlapping labels")
    assert len(result.faces) >= 40 and plan.compact and overlaps == 0
    assert [label.text for label in plan.labels] == [str(n) for n in range(1, len(result.faces) + 1)]
    assert min(heights) >= 11, heights
    assert np.array_equal(drawn, annotate(crowd, result.faces, landmarks=False, display_width=1000)), "landmarks"


def test_one_numbering_for_rows_table_and_labels(estimator):
    from tests.test_dashboard import DATA

    result = estimator.analyze_batch([DATA / "group_faceapi_sample6.jpg"])[0]
    plan = layout(result.faces, (result.width, result.height), display_width=result.width)
    rows = result.rows()
    assert [r["face"] for r in rows] == [1, 2, 3, 4] == list(faces_table([result])["face"])
    assert [label.text.split(" ")[0].lstrip("#") for label in plan.labels] == ["1", "2", "3", "4"]
    assert [n for n, _ in Selection().faces(result)] == [1, 2, 3, 4]
    older = Selection(ages=(result.faces[0].age + 0.1, 200))
    kept = [n for n, _ in older.faces(result)]
    assert 1 not in kept and [r["face"] for r in older.rows([result])] == kept


def test_gender_display_and_messages():
    assert [gender_text("female", 0.97), gender_text("female", UNSURE - 0.01), gender_text("unknown", 0.55)] == [
        "female", "female?", "unknown"]
    assert [gender_text("male", 0.9, short=True), gender_text("unknown", 0.5, short=True)] == ["M", "?"]
    assert problem("a.jpg", "a.jpg: the file is empty") == "Could not read **a.jpg**: the file is empty."
    assert problem("dir/a.jpg", "dir/a.jpg: the file is empty", others=True).endswith(
        "**a.jpg**: the file is empty. The other files are analysed.")


def test_age_histogram_has_5_year_bins_and_whole_counts():
    fig = age_histogram([31.0, 33.9, 34.2, 62.0, 104.0])
    bars = fig.data[0]
    assert list(bars.x[:3]) == [2.5, 7.5, 12.5] and len(bars.x) == 20
    assert [int(v) for v in bars.y[6:8]] == [3, 0] and bars.y[12] == 1 and bars.y[19] == 1
    assert fig.layout.yaxis.dtick == 1 and fig.layout.yaxis.tickformat == "d"


def test_importing_agegender_leaves_pillow_alone():
    code = "import PIL.Image as I; m = I.MAX_IMAGE_PIXELS; import agegender; assert I.MAX_IMAGE_PIXELS == m"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
