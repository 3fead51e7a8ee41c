#!/bin/bash
# Train the student on an accelerator machine under JAX, from a pack made here; finalize there; bring it back.
#
# Here (with TensorFlow and the data):
#   python -m agegender pack --out .pack --teacher models/teachers/combined_0.2.1_utkface_train.npz \
#     --pool ../shared/data/unlabelled/cfp/labels.csv:models/teachers/combined_0.2.1_cfp.npz  # ~45 MB, WebP q60
#   cp ../shared/weights/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5 .pack/
#   keras, optree and namex wheels for CPython 3.12 in .whl/ (the machine has JAX but no Keras)
# Only 64 MiB travel with a call and the tracked models alone are ~70 MB: set models/*.onnx, *.keras and
# models/teachers/*.npz (and tests/, bench/results/) aside for the call, and put them back after.
# There, with .pack and .whl carried:
#   pip install --no-index --no-deps --target /tmp/site .whl/*.whl && PYTHONPATH=/tmp/site:$PWD \
#     BUDGET=260 bash tools/train_on_device.sh
# It writes to $OUT the finalized agegender.keras + agegender.json, best.keras and history.csv (or the last
# backup if time ran out); here `python -m agegender export --model-dir DIR` makes the ONNX file.
export KERAS_BACKEND=jax AGEGENDER_CACHE=/tmp/agcache PYTHONUNBUFFERED=1 TF_CPP_MIN_LOG_LEVEL=2
nvidia-smi -L
python3 -c "import jax, keras; print(jax.__version__, keras.__version__, jax.devices())" 2>&1 | tail -1
start=$(date +%s)
timeout "${TRAIN_TIMEOUT:-470}" python3 -m agegender train --data .pack --out /tmp/run \
  --weights .pack/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.0_224_no_top.h5 \
  --epochs 30 --lr 5e-4 --quality-rate 0.4 --teacher-weight 0.4,0.4 --quiet-progress --time-budget "${BUDGET:-260}" \
  > "$OUT/train.log" 2>&1
echo "train rc=$? after $(( $(date +%s) - start )) s"
grep -v "^I0000\|^WARNING: All\|^W0000" "$OUT/train.log" | tail -25
cp /tmp/run/history.csv /tmp/run/agegender.json "$OUT/" 2>/dev/null
python3 - <<'PY'
import os
from pathlib import Path

import keras

import agegender.training.losses  # noqa: F401  (registers the losses and metrics the checkpoints name)

out, run = Path(os.environ["OUT"]), Path("/tmp/run")
for name in ("agegender.keras", "best.keras"):  # without the optimizer's state: under the 16 MB a file
    if (run / name).is_file():
        keras.saving.load_model(run / name, compile=False).save(out / name)
if not (out / "agegender.keras").is_file() and (run / "backup").is_dir():
    for f in (run / "backup").iterdir():
        if f.stat().st_size < 16e6:
            (out / f.name).write_bytes(f.read_bytes())
PY
ls -la "$OUT"; echo "total $(( $(date +%s) - start )) s"
