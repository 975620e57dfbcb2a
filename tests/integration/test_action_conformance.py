"""Actions x doors x rules, generated from `webapp.services.actions.ACTIONS`.

- Nothing outside the action layer starts work or takes an allowance (static check of the code).
- Every function that calls an action is a door registered for it, and every registered door exists.
- Every door of every action is driven through HTTP (or the CLI) with each rule the action declares
  broken — feature switched off, another producer's record, the allowance used up — and must refuse
  with the rule's message and start nothing. A door added without a driver here fails the test.
"""

from __future__ import annotations

import ast
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import PASSWORD
from tests.fakes.openai_server import FakeOpenAI
from tests.integration.test_budget_and_ledger import OPENAI_KEY, configure

ROOT = Path(__file__).resolve().parents[2]
WEBAPP = ROOT / "webapp"
STARTERS = {("job_service", "start"), ("jobs", "start"), ("limits", "reserve"), ("job_service", "retry")}
# The actions layer is the package webapp/services/actions/ (every module in it, and nothing else);
# services/jobs.py is where start/retry themselves live.
ACTIONS_PACKAGE = WEBAPP / "services" / "actions"
ALLOWED_STARTERS = {WEBAPP / "services" / "jobs.py"}

# Admin-only doors: admins are never limited and always have the media assistant (limits.limit_for,
# User.media_assistant_enabled), so those two rules hold by construction there.
ADMIN_DOORS = {"cli:generate", "cli:animate", "cli:voiceover", "web:admin.queue_action"}


def _in_action_layer(path: Path) -> bool:
    return path.is_relative_to(ACTIONS_PACKAGE)


def _calls(tree: ast.AST):
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
        ):
            yield node, node.func.value.id, node.func.attr


def test_only_the_action_layer_starts_work_or_takes_allowances():
    assert (ACTIONS_PACKAGE / "__init__.py").is_file(), "the actions layer is the package services/actions/"
    assert not (WEBAPP / "services" / "actions.py").exists(), "services/actions.py would shadow the package"
    offenders, in_layer = [], []
    for path in WEBAPP.rglob("*.py"):
        if path in ALLOWED_STARTERS:
            continue
        for node, owner, attr in _calls(ast.parse(path.read_text())):
            if (owner, attr) in STARTERS:
                where = f"{path.relative_to(ROOT)}:{node.lineno} {owner}.{attr}"
                (in_layer if _in_action_layer(path) else offenders).append(where)
    assert not offenders, "work started outside services/actions/: " + ", ".join(offenders)
    assert in_layer, "the scan found no start in services/actions/: it is looking in the wrong place"


def _callers_of_actions() -> dict[str, set[str]]:
    """action name -> the functions (module:function) that call it."""
    from webapp.services.actions import ACTIONS

    found: dict[str, set[str]] = {name: set() for name in ACTIONS}
    for path in WEBAPP.rglob("*.py"):
        if _in_action_layer(path):
            continue
        tree = ast.parse(path.read_text())
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for fn in ast.walk(tree):
            if not isinstance(fn, ast.FunctionDef):
                continue
            for _, owner, attr in _calls(fn):
                if owner == "actions" and attr in found:
                    found[attr].add(f"{module}:{fn.name}")
    return found


def test_every_caller_of_an_action_is_a_registered_door_and_every_door_exists(app):
    from webapp.services.actions import ACTIONS

    views = {}
    for endpoint, view in app.view_functions.items():
        target = getattr(view, "__wrapped__", view)
        while hasattr(target, "__wrapped__"):
            target = target.__wrapped__
        views[f"{target.__module__}:{target.__name__}"] = endpoint
    commands = set(app.cli.commands)
    for name, spec in ACTIONS.items():
        for door in spec.doors:
            kind, _, ident = door.partition(":")
            if kind in ("web", "api"):
                assert ident in app.view_functions, f"{name}: door {door} is not a route"
            else:
                assert ident in commands, f"{name}: door {door} is not a CLI command"
    # Services that wrap an action for several routes (studio) count as part of those doors.
    # services.publishing starts best-effort describe jobs after any publish (issue 20).
    helpers = {
        "webapp.services.studio",
        "webapp.services.bulk",
        "webapp.services.publishing",
        "webapp.cli_ai",
        "webapp.cli_media",
    }
    for name, callers in _callers_of_actions().items():
        for caller in callers:
            if caller.split(":")[0] in helpers:
                continue
            endpoint = views.get(caller)
            module, _, function = caller.partition(":")
            if endpoint is None and function.startswith("_"):
                # A private helper of a routes module: its module must hold a registered door.
                doors = {d.partition(":")[2] for d in ACTIONS[name].doors}
                assert any(views.get(k) in doors for k in views if k.startswith(module + ":")), caller
                continue
            assert endpoint is not None, f"{caller} calls actions.{name} but is not a route: register it"
            prefix = "api" if endpoint.startswith("api.") else "web"
            assert f"{prefix}:{endpoint}" in ACTIONS[name].doors, (
                f"{caller} ({endpoint}) calls actions.{name} but is not registered as its door"
            )


# ------------------------------------------------------------------------------------ the rule matrix


def _small_jpeg(shade: int) -> bytes:
    """A small real photograph (fast to ingest: this fixture runs once per matrix cell)."""
    from PIL import Image
    from skimage import data

    from tests.conftest import encode_image

    img = Image.fromarray(data.astronaut()).resize((240, 240)).point(lambda v: min(255, v + shade))
    return encode_image(img, "JPEG", quality=85)


@pytest.fixture
def world(app, make_user):
    """A producer P with a token, another producer Q, and records of both that doors act on."""
    from webapp.extensions import db
    from webapp.models import BulkBatch, BulkImage, BulkItem, Job, Show, User
    from webapp.services import tokens
    from webapp.services.assets import ingest_upload

    fake = FakeOpenAI(valid_key=None).start()
    configure(app, "openai", key=OPENAI_KEY, base_url=fake.url, default=True, user_images_per_hour=2)
    p_id, p_email = make_user()
    q_id, _ = make_user()
    ids = {"p": p_id, "q": q_id}
    with app.app_context():
        p, q = db.session.get(User, p_id), db.session.get(User, q_id)
        _, ids["token"] = tokens.create(p, "conformance", "write")
        for who, user in (("p", p), ("q", q)):
            asset = ingest_upload(user, _small_jpeg(0 if who == "p" else 9), "a.jpg").asset
            ids[f"asset_{who}"] = asset.id
            failed = Job(owner_id=user.id, kind="autoformat", status="failed", input={"asset_id": asset.id})
            failed.input = {**failed.input, "allowance": {"kind": "autoformat", "override": None}}
            gen = Job(
                owner_id=user.id,
                kind="generate",
                status="failed",
                input={"prompt": "a violin", "image_type": "square", "provider": "openai", "variations": 1},
            )
            running = Job(owner_id=user.id, kind="autoformat", status="queued", input={"asset_id": asset.id})
            db.session.add_all([failed, gen, running])
            db.session.flush()
            ids[f"failed_{who}"], ids[f"gen_{who}"], ids[f"queued_{who}"] = failed.id, gen.id, running.id
            asset.job_id, asset.prompt, asset.source = gen.id, "a violin", "ai"
            batch = BulkBatch(owner_id=user.id, name="b", status="finished", provider="local", model="m")
            batch.autoformat_on_publish = True
            db.session.add(batch)
            db.session.flush()
            item = BulkItem(batch_id=batch.id, position=1, prompt="x", status="done")
            db.session.add(item)
            db.session.flush()
            db.session.add(BulkImage(item_id=item.id, batch_id=batch.id, asset_id=asset.id, selected=True))
            ids[f"batch_{who}"] = batch.id
            show = Show(owner_id=user.id, title=f"Show of {who}")
            db.session.add(show)
            db.session.flush()
            ids[f"show_{who}"] = show.id
        db.session.commit()
    web = app.test_client()
    assert web.post("/login", data={"email": p_email, "password": PASSWORD}).status_code == 302
    yield {"ids": ids, "web": web, "api": app.test_client(), "fake": fake}
    fake.stop()


def _auth(w):
    return {"Authorization": f"Bearer {w['ids']['token']}"}


GEN_FORM = {
    "mode": "create",
    "image_type": "square",
    "model": "openai:gpt-image-1.5",
    "prompt": "a violin on a stage",
    "quality": "low",
    "variations": "1",
}


def _upload(photo: bytes):
    return {
        "image": (io.BytesIO(photo), "new.jpg"),
        "output": "jpeg",
        "darken": "15",
        "fill_poster": "blur",
        "fill_square": "blur",
        "fill_banner": "blur",
    }


def _with_describer(w, send):
    """The describing doors need an admin's describer choice first (issue 17): OpenAI at the fake."""
    from webapp.services import describe_ai

    with w["web"].application.app_context():
        describe_ai.set_describer("openai:gpt-5.4-nano")
    return send()


# door -> request(world, whose records, photo bytes)
DRIVERS = {
    "web:library.describe_ai": lambda w, who, photo: _with_describer(
        w, lambda: w["web"].post(f"/assets/{w['ids']['asset_' + who]}/describe-ai")
    ),
    "api:api.describe_asset": lambda w, who, photo: _with_describer(
        w, lambda: w["api"].post(f"/api/v1/assets/{w['ids']['asset_' + who]}/describe", headers=_auth(w))
    ),
    "web:autoformat.create": lambda w, who, photo: w["web"].post(
        "/autoformat", data=_upload(photo), content_type="multipart/form-data"
    ),
    "api:api.auto_format": lambda w, who, photo: w["api"].post(
        "/api/v1/auto-format",
        data={"file": (io.BytesIO(photo), "new.jpg")},
        headers=_auth(w),
        content_type="multipart/form-data",
    ),
    "web:library.autoformat": lambda w, who, photo: w["web"].post(
        f"/assets/{w['ids']['asset_' + who]}/autoformat"
    ),
    "web:studio.autoformat": lambda w, who, photo: w["web"].post(
        f"/studio/assets/{w['ids']['asset_' + who]}/autoformat"
    ),
    "web:autoformat.resolve_duplicate": lambda w, who, photo: w["web"].post(
        "/autoformat/duplicate",
        data={
            "new_asset_id": w["ids"]["asset_" + who],
            "existing_asset_id": w["ids"]["asset_" + who],
            "choice": "keep",
            "output": "jpeg",
            "darken": "15",
            "fill_poster": "blur",
            "fill_square": "blur",
            "fill_banner": "blur",
        },
    ),
    "web:bulk.publish": lambda w, who, photo: w["web"].post(f"/bulk/{w['ids']['batch_' + who]}/publish"),
    "api:api.autoformat_asset": lambda w, who, photo: w["api"].post(
        f"/api/v1/assets/{w['ids']['asset_' + who]}/auto-format", json={}, headers=_auth(w)
    ),
    "web:palettes.create": lambda w, who, photo: w["web"].post(
        "/palettes/new", data={"asset_id": str(w["ids"]["asset_" + who]), "n_colors": "6"}
    ),
    "api:api.extract_palette": lambda w, who, photo: w["api"].post(
        "/api/v1/palettes/extract", json={"asset_id": w["ids"]["asset_" + who]}, headers=_auth(w)
    ),
    "web:studio.generate": lambda w, who, photo: w["web"].post(
        "/studio/generate",
        data={
            **GEN_FORM,
            **({"mode": "edit", "source_asset": str(w["ids"]["asset_" + who])} if who == "q" else {}),
        },
        content_type="multipart/form-data",
    ),
    "web:studio.retry": lambda w, who, photo: w["web"].post(f"/studio/jobs/{w['ids']['gen_' + who]}/retry"),
    "web:studio.regenerate": lambda w, who, photo: w["web"].post(
        f"/studio/jobs/{w['ids']['gen_' + who]}/regenerate"
    ),
    "web:studio.more": lambda w, who, photo: w["web"].post(f"/studio/assets/{w['ids']['asset_' + who]}/more"),
    "api:api.start_generation": lambda w, who, photo: w["api"].post(
        "/api/v1/ai-generate",
        json={"prompt": "a violin", "image_type": "square", "quality": "low", "provider": "openai"}
        | ({"mode": "edit", "source_asset_id": w["ids"]["asset_q"]} if who == "q" else {}),
        headers=_auth(w),
    ),
    "web:studio.animate": lambda w, who, photo: w["web"].post(
        "/studio/video",
        data={
            "asset_id": str(w["ids"]["asset_" + who]),
            "format": "square",
            "seconds": "2",
            "motion": "push-in",
        },
    ),
    "api:api.start_video": lambda w, who, photo: w["api"].post(
        "/api/v1/videos", json={"asset_id": w["ids"]["asset_" + who], "seconds": 2}, headers=_auth(w)
    ),
    "web:studio.voiceover": lambda w, who, photo: w["web"].post(
        "/studio/voice",
        data={"text": "Tonight only!", **({"show": str(w["ids"]["show_q"])} if who == "q" else {})},
    ),
    "api:api.start_voiceover": lambda w, who, photo: w["api"].post(
        "/api/v1/voiceovers",
        json={"text": "Tonight only!", **({"show_id": w["ids"]["show_q"]} if who == "q" else {})},
        headers=_auth(w),
    ),
    "web:activity.retry": lambda w, who, photo: w["web"].post(f"/jobs/{w['ids']['failed_' + who]}/retry"),
    "api:api.retry_job": lambda w, who, photo: w["api"].post(
        f"/api/v1/jobs/{w['ids']['failed_' + who]}/retry", headers=_auth(w)
    ),
    "web:activity.cancel": lambda w, who, photo: w["web"].post(f"/jobs/{w['ids']['queued_' + who]}/cancel"),
    "api:api.cancel_job": lambda w, who, photo: w["api"].delete(
        f"/api/v1/jobs/{w['ids']['queued_' + who]}", headers=_auth(w)
    ),
    "web:library.favorite": lambda w, who, photo: w["web"].post(
        f"/assets/{w['ids']['asset_' + who]}/favorite", data={"favorite": "1"}
    ),
    "api:api.update_asset": lambda w, who, photo: w["api"].patch(
        f"/api/v1/assets/{w['ids']['asset_' + who]}", json={"favorite": True}, headers=_auth(w)
    ),
}


def _matrix():
    from webapp.services.actions import ACTIONS

    for name, spec in ACTIONS.items():
        for door in spec.doors:
            for rule in spec.rules:
                if rule in ("feature", "ownership", "allowance") and door not in ADMIN_DOORS:
                    yield pytest.param(name, door, rule, id=f"{name}-{door}-{rule}")


def test_every_registered_door_has_a_driver():
    from webapp.services.actions import ACTIONS

    doors = {d for spec in ACTIONS.values() for d in spec.doors} - ADMIN_DOORS
    assert doors <= set(DRIVERS), f"doors without a conformance driver: {sorted(doors - set(DRIVERS))}"


def _state(app, ids):
    """What a refused request must not change: jobs, and statuses of P's jobs."""
    from webapp.extensions import db
    from webapp.models import Job

    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Job))
        statuses = dict(db.session.execute(select(Job.id, Job.status)).all())
        db.session.commit()
    return count, statuses


@pytest.mark.parametrize(("action", "door", "rule"), list(_matrix()))
def test_door_enforces_rule(app, world, action, door, rule):
    from webapp.extensions import db
    from webapp.models import AllowanceReservation, User
    from webapp.services import limits
    from webapp.services.actions import ACTIONS

    ids = world["ids"]
    who = "p"
    expect = None
    if rule == "feature":
        with app.app_context():
            user = db.session.get(User, ids["p"])
            user.feature_flags = {"media_assistant_enabled": False}
            db.session.commit()
        expect = "switched off"
    elif rule == "ownership":
        who = "q"
    elif rule == "allowance":
        kind = ACTIONS[action].allowance or {"retry_job": "autoformat"}.get(action)
        with app.app_context():
            user = db.session.get(User, ids["p"])
            limit = limits.limit_for(kind, user, 2 if kind == "ai" else None)
            db.session.add(AllowanceReservation(user_id=ids["p"], kind=kind, amount=limit, state="used"))
            db.session.commit()
        expect = "You have used your"
    before = _state(app, ids)
    resp = DRIVERS[door](world, who, _small_jpeg(30))
    after = _state(app, ids)
    assert resp.status_code < 500, resp.get_data(as_text=True)[:500]
    assert after == before, f"{door} changed jobs although {rule} must refuse: {resp.status_code}"
    assert len(world["fake"].requests_to("/images")) == 0
    if rule == "ownership":
        assert resp.status_code in (302, 303, 404, 422), resp.status_code
    body = resp.get_data(as_text=True)
    if resp.status_code in (302, 303):
        body = world["web"].get(resp.headers["Location"]).get_data(as_text=True)
    if expect and rule == "allowance":
        assert expect in body, f"{door}: the refusal does not name the allowance ({resp.status_code})"
    if expect and rule == "feature":
        assert resp.status_code in (302, 303, 403) and (expect in body or "media assistant" in body.lower())
