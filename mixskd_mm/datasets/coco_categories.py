"""Name what mmdet's ``CocoDataset`` drops or shifts without a word.

mmdet 3.3.0's ``CocoDataset.load_data_list`` maps the config's class names
to the file's category ids with ``coco.get_cat_ids(cat_names=classes)`` and
numbers the labels by position in that list, then ``parse_data_info`` skips
every annotation whose ``category_id`` is not among those ids. Two data
errors pass unseen that way:

* a class name that the file has no category for is left out of the list,
  so every later class takes the label of the one before it (a detector
  trained on shifted labels, with no error anywhere);
* an annotation whose ``category_id`` is not a category of the file at all
  (a typo, or a merge of two files) is dropped.

:func:`check_coco_categories` re-reads the annotation file of a built
dataset (the dataset itself discards the COCO index after loading) and
raises for both. Annotations of categories that the file has but the config
does not train (a deliberate subset, such as ``classes=('person', )``) are
dropped by mmdet as intended; :func:`dropped_categories` counts them so that
the hook can say so once.
"""
import json
from collections import Counter
from typing import Dict, List, Tuple

from .label_range import LabelOutOfRangeError

__all__ = ['check_coco_categories', 'dropped_categories']


def _read(ann_file: str) -> Tuple[Dict[int, str], List[dict]]:
    """The file's ``{category id: name}`` and its annotations."""
    with open(ann_file) as f:
        data = json.load(f)
    categories = {int(c['id']): str(c['name'])
                  for c in data.get('categories', [])}
    return categories, list(data.get('annotations', []))


def _is_coco_dataset(dataset) -> bool:
    """A built mmdet ``CocoDataset`` (or subclass) read from a local file."""
    try:
        from mmdet.datasets import CocoDataset
    except ImportError:  # mmdet not installed: no COCO datasets to check
        return False
    return isinstance(dataset, CocoDataset) and isinstance(
        getattr(dataset, 'ann_file', None), str)


def check_coco_categories(dataset, split: str) -> Counter:
    """Refuse class names and category ids that mmdet would lose silently.

    Args:
        dataset: A built dataset; anything but an mmdet ``CocoDataset`` is
            not checked.
        split (str): 'train', 'val' or 'test', for the message.

    Returns:
        Counter: ``{category name: annotations}`` of the file's categories
        that the config does not train (mmdet skips them); empty when none
        or when the dataset is not checked.

    Raises:
        LabelOutOfRangeError: A class of ``metainfo['classes']`` is no
            category of the file, or an annotation names a category id the
            file does not define.
    """
    if not _is_coco_dataset(dataset):
        return Counter()
    ann_file = dataset.ann_file
    categories, annotations = _read(ann_file)
    classes = list(dataset.metainfo.get('classes', ()))
    names = set(categories.values())
    missing = [name for name in classes if name not in names]
    if missing:
        raise LabelOutOfRangeError(
            f'{split} dataset: class(es) {missing} of metainfo["classes"] '
            f'are no category of {ann_file} (its categories: '
            f'{sorted(names)}). mmdet would leave them out and give every '
            'later class the label of the class before it. Fix: spell the '
            "classes as the file's categories, or add the categories to "
            'the file.')
    unknown = [a for a in annotations
               if int(a.get('category_id', -1)) not in categories]
    if unknown:
        first = unknown[0]
        raise LabelOutOfRangeError(
            f'{split} dataset: annotation id {first.get("id")} (image id '
            f'{first.get("image_id")}) in {ann_file} has category_id '
            f'{first.get("category_id")}, which is not one of the '
            f"file's categories {sorted(categories)}; {len(unknown)} of "
            f'{len(annotations)} annotations have such ids, and mmdet would '
            'drop them without a word. Fix: correct their category_id, or '
            'add the category to the "categories" list of the file.')
    return dropped_categories(categories, annotations, classes)


def dropped_categories(categories: Dict[int, str], annotations: List[dict],
                       classes: List[str]) -> Counter:
    """Annotations per category name that ``classes`` does not train.

    Args:
        categories (dict): ``{category id: name}`` of the file.
        annotations (list[dict]): The file's annotations; those with an
            id that is no category are not counted.
        classes (list[str]): The config's class names.

    Returns:
        Counter: ``{name: number of annotations}``, only names not in
        ``classes``.
    """
    trained = set(classes)
    names = (categories.get(int(a.get('category_id', -1)))
             for a in annotations)
    return Counter(name for name in names
                   if name is not None and name not in trained)
