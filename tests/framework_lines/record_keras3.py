"""Records what Keras 3 prints for fit() (torch backend, CPU), in a venv with keras:
`KERAS_BACKEND=torch python -u tests/framework_lines/record_keras3.py > tests/framework_lines/keras3.txt 2>&1`."""
import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402 (the backend is chosen before the import)
import numpy as np  # noqa: E402

rng = np.random.default_rng(0)
x = rng.normal(size=(64, 4)).astype("float32")
y = (x[:, 0] > 0).astype("int32")
keras.utils.set_random_seed(0)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
model.fit(x, y, batch_size=8, epochs=3, validation_split=0.25)
model.fit(x, y, batch_size=8, epochs=2, validation_split=0.25, verbose=2)
