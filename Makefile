# Two commands do everything on a fresh machine: `make demo` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
# The venv is rebuilt when the dependency list changes.
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | md5sum | cut -c1-10)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
PIP    := $(BIN)/python -m pip -q --disable-pip-version-check
DATA   ?= $(or $(SGENET_DATA),../shared/data)
CV     := 4.10.0.84

.PHONY: setup demo app test bench gpu-kit clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	# Tesseract for its engine; Ghostscript for OCRmyPDF (PDF/A output); Chromium for the app's browser tests
	@command -v tesseract >/dev/null 2>&1 && command -v gs >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq tesseract-ocr tesseract-ocr-eng ghostscript >/dev/null; }
	@{ command -v chromium && command -v chromedriver; } >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq chromium chromium-driver >/dev/null; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch and torchvision first, pinned to the builds that import together on CPU
	$(PIP) install torch==2.14.1 torchvision==0.29.1
	# OpenCV: easyocr wants opencv-python-headless, rapidocr opencv-python, paddlex
	# opencv-contrib-python (and checks that name). All write the same cv2/ folder, so pin the
	# three to one version, then lay the headless contrib build of that version over them.
	$(PIP) install -e '.[all,dev]' opencv-python==$(CV) opencv-python-headless==$(CV) opencv-contrib-python==$(CV)
	$(PIP) install --no-deps --force-reinstall opencv-contrib-python-headless==$(CV)
	@rm -f $(VENV)/.installed-*; touch $@

demo: setup
	$(BIN)/python -m sgenet_ocr.pipeline examples/street_sign.jpg --compare \
	    --json out/demo.json --annotate out/demo.png --save-crops out/demo_crops
	@echo "annotated page: out/demo.png   results: out/demo.json   restored crops: out/demo_crops/"

app: setup
	$(BIN)/python -m sgenet_ocr.app

test: setup
	SGENET_DATA=$(DATA) $(BIN)/python -m pytest -q --timeout 900

# Everything a CUDA machine without network needs to train (README: "Training on a GPU").
gpu-kit: setup
	$(BIN)/python -m sgenet_ocr.gpu_kit build --out gpu-kit --data $(DATA)
	@# A lent GPU machine receives the checkout (tracked and untracked files) and the kit together,
	@# 64 MiB at most: say how close we are, and stop here rather than at the loan.
	@tree=$$(git ls-files -z -co --exclude-standard | xargs -0 cat 2>/dev/null | wc -c); \
	 kit=$$(du -sb gpu-kit | cut -f1); total=$$((tree + kit)); \
	 echo "checkout $$((tree / 1048576)) MiB + kit $$((kit / 1048576)) MiB = $$((total / 1048576)) MiB (64 MiB travel to a GPU)"; \
	 test $$total -le 67108864 || { echo "checkout + kit over 64 MiB: leave a recipe's files out of the kit or untracked files out of the checkout" >&2; exit 1; }

bench: setup
	SGENET_DATA=$(DATA) $(BIN)/python benchmarks/run_all.py --data $(DATA)

clean:
	rm -rf $(VENV) out build gpu-kit *.egg-info
