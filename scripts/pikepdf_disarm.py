#!/usr/bin/env python3
"""A PDF disarm written with pikepdf (qpdf underneath), as a peer for scripts/bench-pdf.sh.

    pikepdf_disarm.py IN.pdf OUT.pdf

Opens the file, walks every object (every indirect object and the dictionaries and arrays
nested in it) and removes:
  - the catalog's /OpenAction unless it only goes to a place in the document
    (a destination, or a /GoTo action);
  - /AA (additional actions) wherever it is;
  - /JS entries, and JavaScript and Launch actions wherever they are referred to (/A, /Next,
    /OpenAction, ...);
  - the /JavaScript and /EmbeddedFiles name trees of the catalog's /Names;
  - RichMedia and 3D annotations from every /Annots array;
  - /XFA forms;
then saves a full rewrite (every object that is still reachable written anew).
Prints how many things were removed.
"""

import sys

import pikepdf
from pikepdf import Array, Dictionary, Name, Stream

ACTIVE_ACTIONS = {"/JavaScript", "/Launch"}
ACTIVE_ANNOTS = {"/RichMedia", "/3D"}
DROPPED_KEYS = ("/AA", "/JS", "/XFA")


def is_dict(obj):
    return isinstance(obj, (Dictionary, Stream))


def is_container(obj):
    return isinstance(obj, (Dictionary, Array))


def is_active_action(obj):
    return is_dict(obj) and str(obj.get("/S", "")) in ACTIVE_ACTIONS


def is_active_annot(obj):
    return is_dict(obj) and str(obj.get("/Subtype", "")) in ACTIVE_ANNOTS


class Disarm:
    def __init__(self):
        self.removed = 0

    def clean(self, obj):
        """Cleans one object and the direct objects inside it. Indirect children are left to
        the walk over all objects, so each object is visited once and cycles end."""
        if is_dict(obj):
            for key in DROPPED_KEYS:
                if key in obj:
                    del obj[key]
                    self.removed += 1
            for key in list(obj.keys()):
                value = obj[key]
                if is_active_action(value):
                    del obj[key]
                    self.removed += 1
                elif key == "/Annots" and isinstance(value, Array):
                    self.filter_array(value, is_active_annot)
                elif is_container(value) and not value.is_indirect:
                    self.clean(value)
        elif isinstance(obj, Array):
            self.filter_array(obj, is_active_action)
            for item in obj:
                if is_container(item) and not item.is_indirect:
                    self.clean(item)

    def filter_array(self, array, drop):
        for i in reversed(range(len(array))):
            if drop(array[i]):
                del array[i]
                self.removed += 1

    def catalog(self, root):
        action = root.get("/OpenAction")
        if action is not None and not (
            isinstance(action, Array) or (is_dict(action) and action.get("/S") == Name.GoTo)
        ):
            del root["/OpenAction"]
            self.removed += 1
        names = root.get("/Names")
        if is_dict(names):
            for tree in ("/JavaScript", "/EmbeddedFiles"):
                if tree in names:
                    del names[tree]
                    self.removed += 1


def main(argv):
    if len(argv) != 3:
        print("usage: pikepdf_disarm.py IN.pdf OUT.pdf", file=sys.stderr)
        return 2
    with pikepdf.open(argv[1]) as pdf:
        d = Disarm()
        d.catalog(pdf.Root)
        for obj in pdf.objects:
            d.clean(obj)
        pdf.save(argv[2])
    print(f"removed {d.removed}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
