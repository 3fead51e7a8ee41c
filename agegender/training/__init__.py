"""The training wing: labelled data, augmentation and image-quality degradations, the Keras network and its losses,
teachers for distillation, training, finalizing, ONNX export and evaluation. Only training, finalizing and export
load TensorFlow/Keras; evaluation runs the served model."""
