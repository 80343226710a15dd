# node-gyp build of native/ (the same sources as native/CMakeLists.txt), for machines
# without CMake: scripts/build-native.mjs falls back to it. As there, no BLAS is linked:
# native/src/gemm.cc loads a CBLAS (OpenBLAS first) at run time, or runs its built-in kernel.
{
  "targets": [
    {
      "target_name": "autograd_native",
      "sources": [
        "native/src/addon.cc",
        "native/src/engine.cc",
        "native/src/gemm.cc",
        "native/src/ops.cc",
        "native/src/ops_elementwise.cc",
        "native/src/ops_reduce.cc",
        "native/src/ops_linalg.cc",
        "native/src/ops_matrix.cc",
        "native/src/ops_nn.cc",
        "native/src/ops_structure.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_CPP_EXCEPTIONS",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "AG_BUILD_TYPE=\"Release\"",
        "AG_BUILD_SYSTEM=\"node-gyp\"",
        "AG_SANITIZERS=\"\"",
        "AG_BLAS_RUNTIME"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti"],
      # no fused multiply-add contraction: round like the TypeScript reference
      "cflags_cc": ["-std=c++17", "-fexceptions", "-ffp-contract=off", "-O2"],
      "xcode_settings": {
        "GCC_ENABLE_CPP_EXCEPTIONS": "YES",
        "CLANG_CXX_LANGUAGE_STANDARD": "c++17",
        "OTHER_CPLUSPLUSFLAGS": ["-ffp-contract=off"]
      },
      "conditions": [
        [
          "OS=='linux'",
          {
            "libraries": ["-ldl"]
          }
        ]
      ]
    }
  ]
}
