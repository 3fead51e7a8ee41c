"""The inference wing: decode -> detect -> align -> model (onnxruntime) -> results -> render, with tracking and
video. It imports neither the training wing nor TensorFlow/Keras."""
