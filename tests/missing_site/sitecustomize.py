"""Make installed packages look missing in a test's subprocess, as on a laptop without the ML stack.

tests/missing_modules.py puts this folder on PYTHONPATH and names the packages in HAT_TEST_MISSING
("torch,torchvision"); Python imports this file at start-up. Also used in-process by that module.
"""
import os
import sys
from importlib.machinery import PathFinder


class PathFinderWithout:
    """Takes the place of PathFinder on sys.meta_path and finds everything it finds but the named packages.

    An import of them then goes on down sys.meta_path as for a package that is not installed: it fails with
    ModuleNotFoundError, or the hat's stand-in finder (last, during capture) answers it.
    """

    def __init__(self, names):
        self.names = set(names)

    def find_spec(self, fullname, path=None, target=None):
        if fullname.partition(".")[0] in self.names:
            return None
        return PathFinder.find_spec(fullname, path, target)

    def invalidate_caches(self):
        PathFinder.invalidate_caches()

    def find_distributions(self, *args, **kwargs):
        """Installed packages' metadata (importlib.metadata asks the finders for it), the hidden ones' too."""
        return PathFinder.find_distributions(*args, **kwargs)


def hide(names):
    """Put a PathFinderWithout(names) where PathFinder is on sys.meta_path; returns it."""
    finder = PathFinderWithout(names)
    sys.meta_path[sys.meta_path.index(PathFinder)] = finder
    return finder


def unhide(finder):
    sys.meta_path[sys.meta_path.index(finder)] = PathFinder


_names = [name for name in os.environ.get("HAT_TEST_MISSING", "").split(",") if name]
if _names:
    hide(_names)
