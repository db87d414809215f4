"""民生实事 and 志愿服务 over the REST API, held to the OpenAPI document's shapes."""

import pytest
from jsonschema import Draft202012Validator

from shanzhi.api.tokens import api_token_create
from shanzhi.participation import services
from shanzhi.participation.models import Ballot

from .participation_factories import make_volunteer, voting_round

pytestmark = pytest.mark.django_db


def _get(client, user, path):
    _, raw = api_token_create(name="测试", user=user)
    return client.get(path, headers={"authorization": f"Bearer {raw}"})


def _schema_of(client, path, method="get", status="200"):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"][path][method]
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    return {**schema, "components": document["components"]}


def test_a_round_with_its_live_count(client, world):
    round_, proposals, voters = voting_round(world)
    services.ballot_cast(voter=voters[0], proposal_ids=[proposals[2].pk])
    response = _get(client, world.leader, f"/api/v1/participation/rounds/{round_.pk}")
    assert response.status_code == 200
    body = response.json()
    Draft202012Validator(_schema_of(client, "/api/v1/participation/rounds/{round_id}")).validate(
        body
    )
    assert (body["stage"], body["ballots"], body["voters"]) == ("voting", 1, 4)
    assert body["lines"][0] == {
        "proposal": proposals[2].pk,
        "title": "项目3",
        "votes": 1,
        "percent": "100",
        "chosen": True,
    }
    listed = _get(client, world.community_leader, "/api/v1/participation/rounds").json()
    assert [item["id"] for item in listed["items"]] == [round_.pk]
    hidden = _get(client, world.other_leader, f"/api/v1/participation/rounds/{round_.pk}")
    assert hidden.status_code == 404


def test_paper_ballots_entered_twice_over_the_api(client, world):
    round_, proposals, voters = voting_round(world)
    path = f"/api/v1/participation/rounds/{round_.pk}/paper-ballots"
    body = {"voter": voters[0].pk, "picks": [proposals[0].pk]}
    for user, expected in ((world.admin, False), (world.community_worker, True)):
        _, raw = api_token_create(name="录入", user=user)
        response = client.post(
            path, body, content_type="application/json", headers={"authorization": f"Bearer {raw}"}
        )
        assert response.status_code == 200 and response.json() == {"counted": expected}
    assert Ballot.objects.get().confirmed_by == world.community_worker
    _, raw = api_token_create(name="再录", user=world.leader)
    again = client.post(
        path, body, content_type="application/json", headers={"authorization": f"Bearer {raw}"}
    )
    assert again.status_code == 422 and "已投票" in again.json()["message"]


def test_a_volunteers_points(client, world):
    volunteer = make_volunteer(world, "小周")
    services.points_adjust(volunteer=volunteer, delta=12, reason="补录", actor=world.admin)
    response = _get(client, world.leader, f"/api/v1/participation/volunteers/{volunteer.pk}")
    body = response.json()
    Draft202012Validator(
        _schema_of(client, "/api/v1/participation/volunteers/{volunteer_id}")
    ).validate(body)
    assert (body["name"], body["balance"], body["entries"][0]["reason"]) == (
        "小周",
        12,
        "调整:补录",
    )
