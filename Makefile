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
OCR_LANGS ?= eng osd deu fra spa por vie kor
WORKERS ?= $(shell nproc)
# make run's single worker serves both queues: local OCR and cloud provider forwarding.
QUEUES ?= $(or $(OCR_QUEUE),ocr),$(or $(OCR_PROVIDER_QUEUE),ocr-provider)
APT_SYSTEM := tesseract-ocr $(addprefix tesseract-ocr-,$(OCR_LANGS)) fonts-dejavu-core
# tesserocr compiles against the system's libtesseract (requirements.txt: --no-binary).
APT_BUILD := libtesseract-dev libleptonica-dev pkg-config g++
APT_TEST := fonts-ocr-b poppler-utils chromium chromium-driver
APT_SERVE := nginx gettext-base curl
export OMP_THREAD_LIMIT := 1

.PHONY: run test venv system system-test migrate worker web lint format check clean bench \
	serve serve-stop serve-status serve-reload test-deploy

$(VENV)/.installed: requirements.txt requirements-dev.txt
	@./scripts/apt-ensure.sh $(APT_BUILD)
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -r requirements-dev.txt
	@# A venv made before tesserocr was built from source still has the PyPI wheel.
	@[ "$$($(PY) -c 'import tesserocr; print(tesserocr.tesseract_version().split()[1])')" = "$$(pkg-config --modversion tesseract)" ] \
	  || $(PIP) install --quiet --force-reinstall --no-deps --no-binary tesserocr tesserocr==2.13.0
	touch $@

venv: $(VENV)/.installed

# Installs Debian packages that are missing (as root), or says exactly what to install.
system:
	@./scripts/apt-ensure.sh $(APT_SYSTEM)

system-test: system
	@./scripts/apt-ensure.sh $(APT_TEST)

migrate: venv system
	$(PY) manage.py migrate --noinput

run: migrate
	@echo "Starting web server on http://$(HOST):$(PORT)/ and $(WORKERS) Celery worker process(es); Ctrl-C stops both."
	@trap 'kill 0' INT TERM EXIT; \
	  $(VENV)/bin/celery -A onlineocr worker --loglevel=INFO --concurrency=$(WORKERS) --pool=prefork -Q $(QUEUES) & \
	  $(PY) manage.py runserver $(HOST):$(PORT) --noreload & \
	  wait

worker: venv system
	$(VENV)/bin/celery -A onlineocr worker --loglevel=INFO --concurrency=$(WORKERS) --pool=prefork -Q $(QUEUES)

test: venv system-test
	$(VENV)/bin/pytest $(PYTEST_ARGS)

# Production-like stack on this machine (scripts/serve.sh; logs and pids in var/serve/).
serve: venv system
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
