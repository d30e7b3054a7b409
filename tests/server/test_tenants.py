"""Specification of tenants: a tokens file gives each tenant its own token, and a tenant sees only its
own jobs — another tenant's job is not there, on every RPC."""

from __future__ import annotations

import logging

import grpc
import pytest

from tests.support.audio import wav_bytes
from tests.support.backends import ScriptedIllustrator, ScriptedTranscriber
from tests.support.servers import submit_requests
from voxprint.server.auth import Tenants, read_tokens_file, tenants_from_environment
from voxprint.v1 import voxprint_pb2 as pb

KITCHEN_TOKEN = "kitchen-token-6f1c0a9e4b2d4e8f"
WORKSHOP_TOKEN = "workshop-token-0b9e7d5c3a1f4e2d"
SINGLE_TOKEN = "single-token-9a7c3b1d5e0f2a48"
TOKENS_FILE = f"""# tenant   token
kitchen    {KITCHEN_TOKEN}
workshop   {WORKSHOP_TOKEN}   # the shed
"""


def bearer(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


KITCHEN, WORKSHOP, SINGLE = bearer(KITCHEN_TOKEN), bearer(WORKSHOP_TOKEN), bearer(SINGLE_TOKEN)


@pytest.fixture
def tokens_file(tmp_path):
    path = tmp_path / "tokens"
    path.write_text(TOKENS_FILE)
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def shared(request, server_factory, monkeypatch, tokens_file):
    """A server for the kitchen and the workshop tenants, and the single token's default tenant."""
    monkeypatch.setenv("VOXPRINT_AUTH_TOKENS_FILE", str(tokens_file))
    monkeypatch.setenv("VOXPRINT_AUTH_TOKEN", SINGLE_TOKEN)
    database = {"database_url": request.getfixturevalue("postgres_url")} if request.param == "postgresql" else {}
    return server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator(), **database)


def submit(server, metadata, request_id: str = "") -> pb.Job:
    return server.stub.Submit(submit_requests(wav_bytes(), request_id=request_id), metadata=metadata, timeout=30)


def finished(server, job_id: str, metadata) -> pb.Job:
    return list(server.stub.Watch(pb.WatchRequest(job_id=job_id), metadata=metadata, timeout=30))[-1].job


def code_of(call) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as refused:
        call()
    return refused.value.code()


def test_a_tenant_reads_its_own_job(shared):
    job = submit(shared, KITCHEN)

    assert shared.stub.GetJob(pb.GetJobRequest(job_id=job.id), metadata=KITCHEN).id == job.id


@pytest.mark.parametrize(
    "call",
    [
        lambda stub, job_id: stub.GetJob(pb.GetJobRequest(job_id=job_id), metadata=WORKSHOP),
        lambda stub, job_id: list(stub.Watch(pb.WatchRequest(job_id=job_id), metadata=WORKSHOP, timeout=10)),
        lambda stub, job_id: stub.Fetch(pb.FetchRequest(job_id=job_id, format=pb.FORMAT_PNG), metadata=WORKSHOP),
        lambda stub, job_id: stub.Fetch(pb.FetchRequest(job_id=job_id, format=pb.FORMAT_RAW), metadata=WORKSHOP),
    ],
    ids=["GetJob", "Watch", "Fetch-png", "Fetch-raw"],
)
def test_another_tenants_job_is_not_found(shared, call):
    job = submit(shared, KITCHEN)
    finished(shared, job.id, KITCHEN)

    assert code_of(lambda: call(shared.stub, job.id)) == grpc.StatusCode.NOT_FOUND


def test_list_jobs_shows_only_the_callers_own(shared):
    kitchen_job = submit(shared, KITCHEN)
    submit(shared, WORKSHOP)
    submit(shared, SINGLE)

    assert [job.id for job in shared.stub.ListJobs(pb.ListJobsRequest(), metadata=KITCHEN).jobs] == [kitchen_job.id]


def draw_interleaved(server, counts: dict[str, int]) -> dict[str, list[str]]:
    """Jobs drawn for several tenants in turns (``counts``: tenant token → jobs); their ids by token, oldest first."""
    drawn: dict[str, list[str]] = {token: [] for token in counts}
    for n in range(max(counts.values())):
        for token, count in counts.items():
            if n < count:
                job = server.stub.Draw(pb.DrawRequest(phrase=f"a boat {n}"), metadata=bearer(token), timeout=30)
                drawn[token].append(job.id)
    return drawn


def every_page(server, token: str, page_size: int, first_page_token: str = "") -> list[list[str]]:
    """The job ids of each page ListJobs gives ``token``'s caller, following next_page_token to the end."""
    pages, page_token = [], first_page_token
    while True:
        reply = server.stub.ListJobs(
            pb.ListJobsRequest(page_size=page_size, page_token=page_token), metadata=bearer(token), timeout=30
        )
        pages.append([job.id for job in reply.jobs])
        page_token = reply.next_page_token
        if not page_token:
            return pages


def test_list_jobs_pages_through_the_callers_own_jobs_newest_first_without_gaps_or_repeats(shared):
    drawn = draw_interleaved(shared, {KITCHEN_TOKEN: 7, WORKSHOP_TOKEN: 5, SINGLE_TOKEN: 3})

    for token, own in drawn.items():
        pages = every_page(shared, token, page_size=2)
        assert [job for page in pages for job in page] == own[::-1]
        assert [len(page) for page in pages] == [2] * (len(own) // 2) + [1] * (len(own) % 2)


def test_another_tenants_page_token_still_lists_only_the_callers_jobs(shared):
    drawn = draw_interleaved(shared, {KITCHEN_TOKEN: 4, WORKSHOP_TOKEN: 4})
    kitchen_token = shared.stub.ListJobs(pb.ListJobsRequest(page_size=2), metadata=KITCHEN).next_page_token

    listed = [job for page in every_page(shared, WORKSHOP_TOKEN, 2, kitchen_token) for job in page]
    assert listed and set(listed) <= set(drawn[WORKSHOP_TOKEN])


def test_request_ids_are_scoped_per_tenant(shared):
    kitchen_job = submit(shared, KITCHEN, request_id="press-1")
    workshop_job = submit(shared, WORKSHOP, request_id="press-1")

    assert kitchen_job.id != workshop_job.id
    assert submit(shared, KITCHEN, request_id="press-1").id == kitchen_job.id


def test_a_drawn_phrase_belongs_to_its_tenant_and_its_request_id_to_that_tenant(shared):
    def draw(metadata) -> pb.Job:
        return shared.stub.Draw(pb.DrawRequest(phrase="a dragon", request_id="draw-1"), metadata=metadata, timeout=30)

    kitchen_job = draw(KITCHEN)

    assert draw(WORKSHOP).id != kitchen_job.id
    assert code_of(lambda: shared.stub.GetJob(pb.GetJobRequest(job_id=kitchen_job.id), metadata=WORKSHOP)) == (
        grpc.StatusCode.NOT_FOUND
    )


def test_a_draw_without_a_token_is_unauthenticated(shared):
    call = lambda: shared.stub.Draw(pb.DrawRequest(phrase="a dragon"))  # noqa: E731
    assert code_of(call) == grpc.StatusCode.UNAUTHENTICATED


def test_the_single_token_keeps_working_beside_the_file(shared):
    job = submit(shared, SINGLE)

    assert shared.stub.GetJob(pb.GetJobRequest(job_id=job.id), metadata=SINGLE).id == job.id


def test_a_token_not_in_the_file_is_unauthenticated(shared):
    call = lambda: shared.stub.ListJobs(pb.ListJobsRequest(), metadata=bearer("guess"))  # noqa: E731

    assert code_of(call) == grpc.StatusCode.UNAUTHENTICATED


def test_jobs_of_a_server_without_tokens_stay_visible_once_the_single_token_is_set(
    server_factory, monkeypatch, tmp_path
):
    monkeypatch.delenv("VOXPRINT_AUTH_TOKEN", raising=False)
    open_server = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())
    job = submit(open_server, None)
    open_server.stop()
    monkeypatch.setenv("VOXPRINT_AUTH_TOKEN", SINGLE_TOKEN)
    guarded = server_factory(transcriber=ScriptedTranscriber(), illustrator=ScriptedIllustrator())

    assert guarded.stub.GetJob(pb.GetJobRequest(job_id=job.id), metadata=SINGLE).id == job.id


def test_no_token_is_ever_logged(shared, caplog):
    caplog.set_level(logging.DEBUG)
    job = submit(shared, KITCHEN)
    finished(shared, job.id, KITCHEN)
    code_of(lambda: shared.stub.ListJobs(pb.ListJobsRequest(), metadata=bearer("guess")))

    assert caplog.text and not any(token in caplog.text for token in (KITCHEN_TOKEN, WORKSHOP_TOKEN, SINGLE_TOKEN))


def test_the_tokens_file_maps_each_token_to_its_tenant(tokens_file):
    assert read_tokens_file(tokens_file) == {KITCHEN_TOKEN: "kitchen", WORKSHOP_TOKEN: "workshop"}


@pytest.mark.parametrize(
    "text, problem",
    [
        ("kitchen\n", "line 1: expected a tenant name and its token"),
        ("kitchen a b\n", "line 1: expected a tenant name and its token"),
        ("kit/chen secret-token-0123456789\n", "line 1: a tenant name is"),
        ("a same-token-0123456789\nb same-token-0123456789\n", "line 2: this token is already given to tenant 'a'"),
        ("a short-token\n", "line 1: a token needs at least 16 characters"),
        ("# nobody\n", "names no tenant"),
    ],
)
def test_a_bad_tokens_file_is_refused_naming_the_file_and_line_never_a_token(tmp_path, text, problem):
    path = tmp_path / "tokens"
    path.write_text(text)
    with pytest.raises(ValueError) as refused:
        read_tokens_file(path)

    assert problem in str(refused.value) and str(path) in str(refused.value)
    assert not any(secret in str(refused.value) for secret in ("same-token", "secret-token", "short-token"))


@pytest.mark.parametrize("variable", ["VOXPRINT_AUTH_TOKEN", "VOXPRINT_AUTH_TOKENS_FILE"])
def test_a_token_variable_set_but_empty_is_refused_rather_than_read_as_no_authentication(variable):
    with pytest.raises(ValueError, match=f"{variable} is set but empty"):
        tenants_from_environment({variable: ""})


def test_a_short_single_token_is_refused_without_showing_it():
    with pytest.raises(ValueError, match="VOXPRINT_AUTH_TOKEN: a token needs at least 16 characters") as refused:
        tenants_from_environment({"VOXPRINT_AUTH_TOKEN": "abc123"})
    assert "abc123" not in str(refused.value)


def test_a_tokens_file_other_users_can_read_is_used_with_a_warning(tokens_file, caplog):
    tokens_file.chmod(0o644)
    assert read_tokens_file(tokens_file)
    assert "can be read by other users" in caplog.text and "chmod 600" in caplog.text


def test_a_private_tokens_file_is_used_without_a_warning(tokens_file, caplog):
    tokens_file.chmod(0o600)
    assert read_tokens_file(tokens_file)
    assert "other users" not in caplog.text


def test_a_missing_tokens_file_is_refused_naming_it(tmp_path):
    with pytest.raises(ValueError, match=f"cannot read the tokens file {tmp_path / 'absent'}: No such file"):
        tenants_from_environment({"VOXPRINT_AUTH_TOKENS_FILE": str(tmp_path / "absent")})


def test_the_single_token_may_not_also_be_a_tenants_token(tokens_file):
    environment = {"VOXPRINT_AUTH_TOKENS_FILE": str(tokens_file), "VOXPRINT_AUTH_TOKEN": KITCHEN_TOKEN}
    with pytest.raises(ValueError, match="give each tenant its own") as refused:
        tenants_from_environment(environment)

    assert KITCHEN_TOKEN not in str(refused.value)


def test_a_call_looks_its_tenant_up_once(shared, monkeypatch):
    looked_up = []
    original = Tenants.tenant_of

    def counting(self, metadata):
        looked_up.append(1)
        return original(self, metadata)

    monkeypatch.setattr(Tenants, "tenant_of", counting)
    job = submit(shared, KITCHEN)
    for call in (
        lambda: shared.stub.GetJob(pb.GetJobRequest(job_id=job.id), metadata=KITCHEN, timeout=30),
        lambda: shared.stub.ListJobs(pb.ListJobsRequest(), metadata=KITCHEN, timeout=30),
        lambda: finished(shared, job.id, KITCHEN),
    ):
        looked_up.clear()
        call()
        assert len(looked_up) == 1
