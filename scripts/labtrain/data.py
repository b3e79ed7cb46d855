"""The data a run trains on: a TensorFlow Datasets image-classification dataset read through
tfds.load, or synthetic images of the same shape held in memory.

Why CIFAR-10 by default: a 160 MB download that a whole class can fetch (or an instructor can
pre-seed once), 50,000 training images that fit in memory as a tf.data cache, and 32x32
images, so one epoch takes seconds on a consumer GPU and minutes on a CPU: the GPU/CPU
difference the course is about, without waiting an hour.
"""

from __future__ import annotations

import math
import os
import socket
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tensorflow as tf
from labkit.i18n import _

from labtrain.errors import DatasetUnavailable, TrainError
from labtrain.settings import Settings

DATASETS_DOC = "course/docs/datasets.md"
SHUFFLE_BUFFER = 10_000
ONLINE_PROBE = ("storage.googleapis.com", 443)


@dataclass(frozen=True)
class DataSpec:
    name: str
    source: str  # "tfds" or "synthetic"
    image_shape: tuple[int, int, int]
    num_classes: int
    train_examples: int
    validation_examples: int | None
    validation_split: str | None
    data_dir: str | None


@dataclass
class Data:
    spec: DataSpec
    train: tf.data.Dataset  # batched, repeats forever: fit() gets steps_per_epoch
    validation: tf.data.Dataset | None
    steps_per_epoch: int
    validation_steps: int | None
    batch_size: int  # global: images per step over all devices

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return self.spec.image_shape

    @property
    def num_classes(self) -> int:
        return self.spec.num_classes


def default_data_dir(settings: Settings) -> str:
    return settings.data_dir or os.environ.get("TFDS_DATA_DIR") or str(Path.home() / "tensorflow_datasets")


def prepare_command(name: str) -> str:
    return f"docker compose run --rm lab prepare --dataset {name}"


def _feature_keys(info) -> tuple[str, str]:
    if info.supervised_keys and len(info.supervised_keys) == 2:
        image_key, label_key = info.supervised_keys
        if isinstance(image_key, str) and isinstance(label_key, str):
            return image_key, label_key
    import tensorflow_datasets as tfds

    image_key = next((k for k, f in info.features.items() if isinstance(f, tfds.features.Image)), None)
    label_key = next((k for k, f in info.features.items() if isinstance(f, tfds.features.ClassLabel)), None)
    if image_key is None or label_key is None:
        raise TrainError(
            _("dataset {name!r} is not image classification (needs an Image and a ClassLabel)").format(name=info.name)
        )
    return image_key, label_key


def _unavailable_message(name: str, data_dir: str, why: str) -> str:
    return _(
        "dataset {name!r} is not available offline in {data_dir} ({why}). "
        "An instructor pre-seeds the cache volume once: see {doc} "
        "(online: `{command}`); or train on in-memory data with --synthetic."
    ).format(name=name, data_dir=data_dir, why=why, doc=DATASETS_DOC, command=prepare_command(name))


def tfds_builder(settings: Settings):
    import tensorflow_datasets as tfds

    try:
        return tfds.builder(settings.dataset, data_dir=settings.data_dir)
    except Exception as error:  # DatasetNotFoundError and friends: many lines of names
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise DatasetUnavailable(
            _(
                "dataset {name!r} is unknown to TensorFlow Datasets and not found in {data_dir} ({first}). "
                "Names: https://www.tensorflow.org/datasets/catalog ; pre-seeding a cache: {doc}"
            ).format(name=settings.dataset, data_dir=default_data_dir(settings), first=first, doc=DATASETS_DOC)
        ) from None


def online(timeout: float = 5.0) -> bool:
    """Can this machine reach Google's storage, where TFDS fetches most datasets? Checked
    first because, offline, TFDS retries every download for minutes before giving up."""
    try:
        socket.create_connection(ONLINE_PROBE, timeout=timeout).close()
    except OSError:
        return False
    return True


def prepare(settings: Settings, log: Callable[[str], None] = print):
    """The builder of a dataset that is ready to read, downloading it first if allowed."""
    builder = tfds_builder(settings)
    if builder.is_prepared():
        return builder
    data_dir = default_data_dir(settings)
    if not settings.download:
        raise DatasetUnavailable(_unavailable_message(settings.dataset, data_dir, _("not prepared, --no-download")))
    if not online():
        why = _("no network: {host} unreachable").format(host=ONLINE_PROBE[0])
        raise DatasetUnavailable(_unavailable_message(settings.dataset, data_dir, why))
    log(
        _("[train] downloading and preparing {name!r} into {data_dir} (once; later runs reuse it)").format(
            name=settings.dataset, data_dir=data_dir
        )
    )
    try:
        builder.download_and_prepare()
    except Exception as error:
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        why = _("download failed: {first}").format(first=first)
        raise DatasetUnavailable(_unavailable_message(settings.dataset, data_dir, why)) from None
    return builder


def available(name: str, data_dir: str | None = None) -> bool:
    """True when the dataset can be read without a download (for notebooks)."""
    try:
        return tfds_builder(Settings(dataset=name, data_dir=data_dir)).is_prepared()
    except TrainError:
        return False


def _split_names(info) -> tuple[str, str | None]:
    splits = list(info.splits.keys())
    if "train" not in splits:
        raise TrainError(
            _("dataset {name!r} has no 'train' split (it has {splits})").format(name=info.name, splits=splits)
        )
    validation = next((name for name in ("test", "validation") if name in splits), None)
    return "train", validation


def _resize_to_uint8(image, size: int):
    if image.shape[0] != size or image.shape[1] != size:
        image = tf.image.resize(image, (size, size))
        image = tf.cast(tf.clip_by_value(tf.round(image), 0.0, 255.0), tf.uint8)
    return image


def augment_and_normalize(images, labels, *, training: bool):
    """Runs on whole batches (vectorized, as the tf.data guide advises): cheap per image."""
    images = tf.cast(images, tf.float32) / 255.0
    if training:
        flip = tf.random.uniform((tf.shape(images)[0], 1, 1, 1)) < 0.5
        images = tf.where(flip, tf.image.flip_left_right(images), images)
    return images, labels


def make_pipeline(
    examples: tf.data.Dataset,
    *,
    batch_size: int,
    training: bool,
    cache: bool = True,
    limit: int | None = None,
    seed: int | None = None,
) -> tf.data.Dataset:
    """(uint8 image, label) examples -> the batches fit() reads, per TensorFlow's tf.data
    performance guide: deterministic work before the cache, random work after it, whole
    batches mapped in parallel, and prefetch last so the accelerator never waits on Python."""
    if limit is not None:
        examples = examples.take(limit)
    if cache:
        examples = examples.cache()  # epoch 1 decodes and resizes; later epochs read memory
    if training:
        examples = examples.shuffle(SHUFFLE_BUFFER, seed=seed, reshuffle_each_iteration=True).repeat()
    batches = examples.batch(batch_size, drop_remainder=training)
    batches = batches.map(
        lambda x, y: augment_and_normalize(x, y, training=training), num_parallel_calls=tf.data.AUTOTUNE
    )
    return batches.prefetch(tf.data.AUTOTUNE)


def steps_for(examples: int, batch_size: int, max_steps: int | None) -> int:
    steps = examples // batch_size
    if max_steps is not None:
        steps = min(steps, max_steps)
    if steps < 1:
        raise TrainError(
            _("{examples} training images make no full batch of {batch_size}: lower --batch-size").format(
                examples=examples, batch_size=batch_size
            )
        )
    return steps


def load_tfds(settings: Settings, *, batch_size: int, log: Callable[[str], None] = print) -> Data:
    """A real dataset through tfds.load, from the local cache (TFDS_DATA_DIR)."""
    import tensorflow_datasets as tfds

    builder = prepare(settings, log)
    info = builder.info
    image_key, label_key = _feature_keys(info)
    height, width, channels = info.features[image_key].shape
    if settings.image_size is None and (height is None or width is None or height != width):
        size = 128
    else:
        size = settings.image_size or height
    train_split, validation_split = _split_names(info)
    spec = DataSpec(
        name=settings.dataset,
        source="tfds",
        image_shape=(size, size, channels or 3),
        num_classes=info.features[label_key].num_classes,
        train_examples=info.splits[train_split].num_examples,
        validation_examples=info.splits[validation_split].num_examples if validation_split else None,
        validation_split=validation_split,
        data_dir=default_data_dir(settings),
    )
    steps = steps_for(spec.train_examples, batch_size, settings.max_steps)

    def read(split: str) -> tf.data.Dataset:
        examples = tfds.load(
            settings.dataset,
            split=split,
            data_dir=settings.data_dir,
            download=False,
            shuffle_files=split == train_split,
        )
        return examples.map(
            lambda ex: (_resize_to_uint8(ex[image_key], size), ex[label_key]), num_parallel_calls=tf.data.AUTOTUNE
        )

    limit = steps * batch_size if settings.max_steps is not None else None
    train = make_pipeline(
        read(train_split), batch_size=batch_size, training=True, cache=settings.cache, limit=limit, seed=settings.seed
    )
    validation = validation_steps = None
    if validation_split:
        validation_steps = math.ceil(spec.validation_examples / batch_size)
        if settings.max_steps is not None:
            validation_steps = min(validation_steps, settings.max_steps)
        validation = make_pipeline(
            read(validation_split),
            batch_size=batch_size,
            training=False,
            cache=settings.cache,
            limit=validation_steps * batch_size,
        )
    return Data(spec, train, validation, steps, validation_steps, batch_size)


def synthetic_shape(settings: Settings) -> tuple[tuple[int, int, int], int]:
    """The shape and class count of the named dataset, known without its files where TFDS
    has the dataset's code; 32x32x3 and 10 classes otherwise."""
    shape, classes = (32, 32, 3), 10
    try:
        import tensorflow_datasets as tfds

        info = tfds.builder(settings.dataset, data_dir=settings.data_dir).info
        image_key, label_key = _feature_keys(info)
        height, width, channels = info.features[image_key].shape
        side = height if height and height == width else 128
        shape, classes = (side, side, channels or 3), info.features[label_key].num_classes
    except Exception:  # noqa: S110 -- unknown name: synthetic data still works
        pass
    if settings.image_size:
        shape = (settings.image_size, settings.image_size, shape[2])
    return shape, classes


def load_synthetic(settings: Settings, *, batch_size: int) -> Data:
    """Random images already in memory, one batch repeated: no decoding, no disk, so this is
    as fast as data can reach the model. Real data at about the same speed means the input
    pipeline keeps up."""
    shape, classes = synthetic_shape(settings)
    generator = tf.random.Generator.from_seed(settings.seed)
    images = tf.cast(generator.uniform((batch_size, *shape), maxval=256, dtype=tf.int32), tf.uint8)
    labels = generator.uniform((batch_size,), maxval=classes, dtype=tf.int32)
    batch = augment_and_normalize(images, labels, training=False)
    spec = DataSpec(
        name=settings.dataset,
        source="synthetic",
        image_shape=shape,
        num_classes=classes,
        train_examples=settings.synthetic_examples,
        validation_examples=None,
        validation_split=None,
        data_dir=None,
    )
    steps = steps_for(settings.synthetic_examples, batch_size, settings.max_steps)
    train = tf.data.Dataset.from_tensors(batch).repeat().prefetch(tf.data.AUTOTUNE)
    return Data(spec, train, None, steps, None, batch_size)


# fit() warns that its shuffle argument does nothing for a tf.data.Dataset: these pipelines
# shuffle themselves (make_pipeline), so the warning would only alarm a student.
warnings.filterwarnings("ignore", message="`shuffle=True` was passed, but will be ignored", category=UserWarning)


def load(settings: Settings, *, replicas: int = 1, log: Callable[[str], None] = print) -> Data:
    """Batches of settings.batch_size images per device: the global batch grows with the
    number of devices, so each one keeps the work it would have alone."""
    batch_size = settings.batch_size * replicas
    if settings.synthetic:
        return load_synthetic(settings, batch_size=batch_size)
    return load_tfds(settings, batch_size=batch_size, log=log)
