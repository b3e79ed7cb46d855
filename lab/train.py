"""Train a small image classifier (a convolutional network) with Keras.

This is the course's training script: read it top to bottom, change it, run it again.

    python train.py --synthetic --epochs 1 --max-steps 5   a quick check: random images, no dataset
    python train.py                                        CIFAR-10, 10 epochs, on the GPU if there is one
    python train.py --epochs 3 --batch-size 64             any setting below, from the command line
    python train.py --help                                 all settings

In the lab: `docker compose run --rm train --synthetic --epochs 1` (the same options).

A run lives in runs/<dataset>/: results.json, plots, the trained model (model.keras). Start the
same command again after a crash or Ctrl-C and it continues after the last finished epoch;
--fresh starts over. The first epoch is always slower: it also traces the model, compiles
GPU kernels and fills the data cache, so it is reported apart from the others.

Everything that is not the lesson (command-line options, reading the data, resuming, timing,
results.json, plots, one-line error messages) is in the lab's `labtrain` package.
"""

from labkit.local_env import load_env

load_env()  # outside Docker: the lab's .env, as compose reads it, before TensorFlow starts

import keras  # noqa: E402
import labtrain  # noqa: E402

# ## Settings
# The defaults of this script. Each one can be changed on the command line without editing
# this file: `--epochs 3`, `--batch-size 64`, `--learning-rate 0.0005`, ...
settings = labtrain.from_command_line(
    description=__doc__,
    dataset="cifar10",  # any image-classification dataset of TensorFlow Datasets
    epochs=10,
    batch_size=128,  # images per training step (on each GPU, when training on several)
    learning_rate=1e-3,
    width=32,  # filters in the first convolution block; the network's size grows with it
)

# A problem you can fix (no dataset offline, no GPU, out of memory, ...) stops the script
# with one line saying what to change, instead of a long traceback.
with labtrain.explain_errors("train", batch_size=settings.batch_size):
    # ## Device
    # The first GPU TensorFlow can use, else the CPU (`--device cpu`, `--device gpu:1`, or
    # `--device all` for every GPU at once: tf.distribute.MirroredStrategy).
    placement = labtrain.place(settings)
    if settings.mixed_precision:
        # float16 math with float32 weights: faster on GPUs with tensor/matrix cores.
        keras.mixed_precision.set_global_policy("mixed_float16")

    # ## Data
    # tf.data pipelines of (images, labels) batches, scaled to 0..1, training images flipped
    # at random. --synthetic: random images of the same shape, no download needed.
    data = labtrain.load_data(settings, replicas=placement.replicas)

    # ## The model
    # Three blocks of two 3x3 convolutions (with batch normalization), each followed by
    # max-pooling that halves the image; then one number per class. Small enough for a CPU,
    # big enough that a GPU matters.
    def build_model(image_shape, num_classes, width):
        layers = [keras.Input(shape=image_shape)]
        for filters in (width, width * 2, width * 4):
            for _ in range(2):
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
            # float32 even under mixed precision, so the probabilities and the loss stay precise.
            keras.layers.Activation("softmax", dtype="float32"),
        ]
        return keras.Sequential(layers, name="course_cnn")

    # ## Build and compile the model (on the chosen device or devices)
    with placement.strategy.scope():
        model = build_model(data.image_shape, data.num_classes, settings.width)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=settings.learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=settings.xla,  # --xla: compile the training step with XLA
            steps_per_execution=settings.steps_per_execution,
        )
    model.summary()

    # ## Train
    # The run folder's callbacks resume after the last finished epoch (keras.callbacks.
    # BackupAndRestore), save the model and a CSV log each epoch (ModelCheckpoint,
    # CSVLogger), and time every epoch into results.json.
    run = labtrain.open_run(settings, data=data, placement=placement)
    model.fit(
        data.train,
        epochs=settings.epochs,
        steps_per_epoch=data.steps_per_epoch,
        validation_data=data.validation,
        validation_steps=data.validation_steps,
        callbacks=run.callbacks,
    )

    # ## Results
    # Plots and results.json in the run folder; the device, the first epoch and the speed of
    # the others, printed below.
    run.finish(model)
