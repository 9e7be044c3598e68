#!/usr/bin/env bash
# Build .whl/site: the pure-Python packages (and bitsandbytes' CPU + CUDA 13 libraries) that bench/gpu.sh needs and a
# GPU machine's image may lack, unpacked for Python 3.12, so they can travel with the checkout (about 33 MB).
#   bash bench/gpu_env.sh        # then run bench/gpu.sh on the GPU machine with .whl carried along
set -euo pipefail
cd "$(dirname "$0")/.."
rm -rf .whl/site .whl/ds4
PIP="python -m pip install -q --no-deps --python-version 3.12 --implementation cp --only-binary=:all: --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 --platform manylinux2014_x86_64"
$PIP --target .whl/site nbdev==2.4.14 fastcore==1.14.5 execnb==0.1.18 ghapi==1.1.1 fastgit==0.1.4 astunparse==1.6.3 \
    asttokens==3.0.2 watchdog==7.1.0 ipython==9.18.1 ipython-pygments-lexers==1.1.1 jedi==0.20.1 parso==0.8.7 \
    matplotlib-inline==0.2.2 pexpect==4.9.0 ptyprocess==0.7.0 prompt-toolkit==3.0.53 wcwidth==0.9.4 stack-data==0.6.3 \
    executing==2.3.0 pure-eval==0.2.4 traitlets==5.16.1 ipywidgets==8.1.9 comm==0.2.3 widgetsnbextension==4.0.16 \
    jupyterlab-widgets==3.0.17 dill==0.4.1 multiprocess==0.70.19 datasets==5.2.0 bitsandbytes==0.50.2
# an older datasets for an image whose pyarrow is older than datasets 5 needs
$PIP --target .whl/ds4 datasets==4.4.1 dill==0.4.0 multiprocess==0.70.18
cd .whl/site
rm -f bitsandbytes/libbitsandbytes_cuda11*.so bitsandbytes/libbitsandbytes_cuda12*.so bitsandbytes/libbitsandbytes_rocm*.so bitsandbytes/libbitsandbytes_xpu*.so
rm -rf jedi/third_party/typeshed share bin etc
find .. -name __pycache__ -type d -prune -exec rm -rf {} +
du -sh ..
