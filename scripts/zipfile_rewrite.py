"""The peer baseline for the OOXML benchmark: rewrite a package entry by entry with Python's
zipfile (read and inflate every entry, deflate it again), as a script-based sanitizer would."""
import sys
import zipfile

src, dst = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
    for info in zin.infolist():
        zout.writestr(info, zin.read(info.filename), compress_type=zipfile.ZIP_DEFLATED)
