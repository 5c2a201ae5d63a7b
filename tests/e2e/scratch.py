"""A test's scratch directories (store files, daemons' logs): made under $TMPDIR (/tmp), removed when
the script passed, kept when it failed, for a look at what it left (docs/testing.md, "Scratch
files"). A script that fails exits before it calls passed()."""
import shutil
import tempfile

_DIRS = []


def scratch_dir(prefix="coworker-"):
    d = tempfile.mkdtemp(prefix=prefix)
    _DIRS.append(d)
    return d


def passed(message=None):
    """The script's last word when every check held: its scratch directories go, `message` is printed."""
    for d in _DIRS:
        shutil.rmtree(d, ignore_errors=True)
    _DIRS.clear()
    if message:
        print(message, flush=True)
