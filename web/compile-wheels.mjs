// Adds CPython bytecode (.pyc) for Pyodide's Python to pure-Python wheels, so that the
// page imports them without compiling source in WebAssembly. It runs the pinned Pyodide
// in Node.js, because only that interpreter writes bytecode of the right version.
//
// Usage: node compile-wheels.mjs IN_DIR OUT_DIR
// Every *.whl in IN_DIR is written to OUT_DIR with the same file name, its sources kept
// and a __pycache__/*.cpython-3XX.pyc added for each module, with RECORD updated.

import path from "node:path";
import { loadPyodide } from "pyodide";

const [inDir, outDir] = process.argv.slice(2).map((dir) => path.resolve(dir));
if (!inDir || !outDir) {
  console.error("usage: node compile-wheels.mjs IN_DIR OUT_DIR");
  process.exit(2);
}

const pyodide = await loadPyodide();
pyodide.FS.mkdirTree("/wheels/in");
pyodide.FS.mkdirTree("/wheels/out");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: inDir }, "/wheels/in");
pyodide.FS.mount(pyodide.FS.filesystems.NODEFS, { root: outDir }, "/wheels/out");

const COMPILE = `
import base64, compileall, hashlib, io, pathlib, py_compile, sys, tempfile, zipfile

def record_line(name, data):
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"

def compile_wheel(source, target):
    with tempfile.TemporaryDirectory() as tmp:
        root = pathlib.Path(tmp)
        with zipfile.ZipFile(source) as archive:
            archive.extractall(root)
            names = archive.namelist()
        # Unchecked hash-based pycs stay valid whatever file times the installer sets.
        compileall.compile_dir(
            root, quiet=2, invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH
        )
        added = sorted(
            path.relative_to(root).as_posix() for path in root.rglob("*.pyc")
        )
        record = next(name for name in names if name.endswith(".dist-info/RECORD"))
        lines = [line for line in (root / record).read_text().splitlines() if line]
        lines.extend(record_line(name, (root / name).read_bytes()) for name in added)
        (root / record).write_text("\\n".join(lines) + "\\n")
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
            for name in [n for n in names if n != record] + added + [record]:
                archive.write(root / name, name)
    return len(added)

counts = []
for wheel in sorted(pathlib.Path("/wheels/in").glob("*.whl")):
    counts.append(f"{wheel.name}: {compile_wheel(wheel, pathlib.Path('/wheels/out') / wheel.name)} modules")
f"Python {sys.version.split()[0]}; " + "; ".join(counts)
`;

try {
  console.log(pyodide.runPython(COMPILE));
} catch (error) {
  // Print the Python traceback alone, not Node's excerpt of Pyodide's minified source.
  console.error(error.message);
  process.exit(1);
}
