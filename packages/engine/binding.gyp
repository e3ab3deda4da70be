{
  # Built by scripts/build-native.js (the package's install script) with node-gyp.
  # -fno-trapping-math lets GCC vectorise loops with floating-point compares (warp.cc's nearest
  # sampling); no kernel reads floating-point exception flags.
  # CONVLAB_OPENBLAS=1 in the environment also links OpenBLAS, which matmul then uses when
  # CONVLAB_MATMUL=openblas at run time (oneDNN's matmul measured faster; see matmul.cc).
  "variables": {
    "convlab_openblas%": "<!(node -p \"process.env.CONVLAB_OPENBLAS === '1' ? 1 : 0\")"
  },
  "targets": [
    {
      "target_name": "convlab_native",
      "sources": [
        "native/addon.cc",
        "native/runtime.cc",
        "native/conv.cc",
        "native/matmul.cc",
        "native/pool.cc",
        "native/elementwise.cc",
        "native/warp.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags!": ["-fno-exceptions", "-O2"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-O2"],
      "cflags_cc": ["-std=c++20", "-O3", "-fno-trapping-math", "-fopenmp", "-fexceptions", "-Wall", "-Wno-unused-parameter"],
      "ldflags": ["-fopenmp"],
      "libraries": ["-ldnnl"],
      "conditions": [
        ["convlab_openblas==1", {
          "defines": ["CONVLAB_HAVE_OPENBLAS"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
