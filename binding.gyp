{
  "variables": {
    "has_libsystemd%": "<!(pkg-config --exists libsystemd && echo 1 || echo 0)"
  },
  "targets": [
    {
      "target_name": "storeventd",
      "sources": ["<!@(ls -1 native/src/*.cc)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")", "native/src"],
      "defines": ["NAPI_VERSION=8", "NAPI_DISABLE_CPP_EXCEPTIONS", "NODE_ADDON_API_DISABLE_DEPRECATED"],
      "cflags_cc": ["-std=c++20", "-fno-exceptions", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_cc!": ["-fno-rtti", "-std=gnu++17"],
      "ldflags": ["-static-libstdc++", "-static-libgcc"],
      "conditions": [
        ["has_libsystemd==1", {
          "defines": ["STOREVENTD_HAVE_SYSTEMD"],
          "cflags_cc": ["<!@(pkg-config --cflags libsystemd)"],
          "libraries": ["-ldl"]
        }]
      ]
    }
  ]
}
