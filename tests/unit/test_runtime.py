"""Start-up under eventlet (and gevent): monkey-patching first, and psycopg2 made cooperative."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from webapp.concurrency import assert_cooperative_database_driver

ROOT = Path(__file__).resolve().parents[2]


def test_wsgi_under_eventlet_patches_psycopg2(tmp_path):
    env = dict(
        os.environ, SOCKETIO_ASYNC_MODE="eventlet", DATABASE_URL=f"sqlite:///{tmp_path}/x.db", PYTHONWARNINGS="ignore"
    )
    code = "import wsgi, psycopg2.extensions as e; print(e.get_wait_callback() is not None, wsgi.app.config['SOCKETIO_ASYNC_MODE'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "eventlet"]


def test_wsgi_under_gevent_patches_psycopg2(tmp_path):
    env = dict(
        os.environ, SOCKETIO_ASYNC_MODE="gevent", DATABASE_URL=f"sqlite:///{tmp_path}/x.db", PYTHONWARNINGS="ignore"
    )
    code = (
        "import wsgi, psycopg2.extensions as e, gevent.monkey as m; from webapp.concurrency import green_library; "
        "print(e.get_wait_callback() is not None, m.is_module_patched('socket'), green_library(), "
        "wsgi.app.config['SOCKETIO_ASYNC_MODE'])"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True", "gevent", "gevent"]


def test_cpu_bound_work_runs_off_the_gevent_hub():
    # Under gevent the hub's threadpool runs it on a real OS thread (Argon2 would freeze every socket).
    env = dict(os.environ, PYTHONWARNINGS="ignore")
    code = (
        "from gevent import monkey; monkey.patch_all()\n"
        "from gevent.monkey import get_original\n"
        "from webapp.concurrency import run_cpu_bound\n"
        "hub = get_original('threading', 'get_ident')()\n"
        "print(run_cpu_bound(lambda a: (a, get_original('threading', 'get_ident')() != hub), 7))"
    )
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "(7, True)"


def test_wsgi_in_threading_mode_does_not_patch(tmp_path):
    env = dict(
        os.environ, SOCKETIO_ASYNC_MODE="threading", DATABASE_URL=f"sqlite:///{tmp_path}/x.db", PYTHONWARNINGS="ignore"
    )
    code = "import wsgi, eventlet.patcher as p; print(p.is_monkey_patched('socket'), wsgi.app.config['SOCKETIO_ASYNC_MODE'])"
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "threading"]


def test_startup_check_refuses_a_blocking_driver():
    # This test process is not monkey-patched, so psycopg2 has no wait callback.
    with pytest.raises(RuntimeError, match="monkey_patch"):
        assert_cooperative_database_driver()
