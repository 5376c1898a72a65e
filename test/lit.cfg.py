import os

import lit.formats
from lit.llvm import llvm_config

config.name = "CATFISH"
config.test_format = lit.formats.ShTest(not llvm_config.use_lit_shell)
config.suffixes = [".mlir", ".test"]
config.excludes = ["Inputs", "CMakeLists.txt", "lit.cfg.py", "lit.site.cfg.py"]
config.test_source_root = os.path.dirname(__file__)
config.test_exec_root = os.path.join(config.catfish_obj_root, "test")

config.substitutions.append(("%python", config.python_executable))
config.substitutions.append(("%make_model", config.python_executable + " " +
                             os.path.join(config.test_source_root, "Import", "Inputs",
                                          "make_model.py")))
llvm_config.with_system_environment(["HOME", "TMPDIR"])
llvm_config.use_default_substitutions()
tool_dirs = [config.catfish_tools_dir, config.llvm_tools_dir]
llvm_config.add_tool_substitutions(
    ["catfish-opt", "catfish-compile", "catfish-run", "catfish-inspect", "catfish-runtime-tests",
     "catfish-fuzz-onnx-import", "catfish-fuzz-artifact", "catfish-fuzz-npy",
     "catfish-fuzz-tensor-proto", "catfish-soak", "catfish-concurrency-test"], tool_dirs)
config.substitutions.append(("%catfish_bin", config.catfish_tools_dir))
config.substitutions.append(("%catfish_obj", config.catfish_obj_root))
llvm_config.with_environment("PATH", config.llvm_tools_dir, append_path=True)

# The host runs x86-64-v4 code (AVX-512): artifacts then run their v4 code, else their v3 code.
def _host_has_avx512():
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            flags = next((line for line in cpuinfo if line.startswith("flags")), "").split()
    except OSError:
        return False
    return all(f in flags for f in ("avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl"))


if _host_has_avx512():
    config.available_features.add("x86-64-v4")
