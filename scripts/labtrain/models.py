"""The benchmark's network: the same one lab/train.py builds as shipped.

bench and 03-cpu-vs-gpu.ipynb measure the machine with this copy, so a student who changes
the model in train.py changes what they train, not the yardstick the class compares against.
tests/workload/test_models.py fails when the two copies stop building the same network.
"""

from __future__ import annotations

import keras


def course_cnn(image_shape, num_classes: int, width: int = 32) -> keras.Model:
    layers = [keras.Input(shape=image_shape)]
    for filters in (width, width * 2, width * 4):
        for _repeat in range(2):
            layers += [
                keras.layers.Conv2D(filters, kernel_size=3, padding="same", use_bias=False),
                keras.layers.BatchNormalization(),
                keras.layers.Activation("relu"),
            ]
        layers.append(keras.layers.MaxPooling2D(pool_size=2))
    layers += [
        keras.layers.GlobalAveragePooling2D(),
        keras.layers.Dropout(0.2),
        keras.layers.Dense(num_classes),
        keras.layers.Activation("softmax", dtype="float32"),
    ]
    return keras.Sequential(layers, name="course_cnn")


def compile_for_training(model: keras.Model, *, xla: bool = False, steps_per_execution: int = 1) -> keras.Model:
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=1e-3),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        jit_compile=xla,
        steps_per_execution=steps_per_execution,
    )
    return model
