"""Learned routing: trained on the street's own finished cases, keywords while history is thin,
the evaluate command on any labelled file, and the suggestions on the pages and the API."""

import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from shanzhi.api.tokens import api_token_create
from shanzhi.cases import services
from shanzhi.routing import pipeline
from shanzhi.routing.models import RouterModel
from shanzhi.routing.selectors import KEYWORDS, MODEL, suggestions_for
from shanzhi.routing.services import router_train, routing_train

from .case_factories import case_type, make_case, police
from .routing_factories import LAMP, NOISE, OIL, TEXTS, closed_case, history, settings_for

pytestmark = pytest.mark.django_db

DEV = Path(__file__).resolve().parents[2] / "shared" / "data" / "complaints_dev.csv"


def _html(response) -> str:
    return response.content.decode()


@pytest.fixture
def trained(world):
    settings_for(world, min_training_cases=10, preselect_confidence=0.3)
    history(world)
    report = router_train(street=world.street)
    assert report.model is not None
    return report.model


def test_keywords_speak_while_history_is_thin(world):
    settings_for(world, min_training_cases=10)
    history(world, per_type=2)
    report = router_train(street=world.street)
    assert report.model is None and "少于 10 件" in report.reason
    found = suggestions_for(street=world.street, text="楼下饭店油烟扰民", area=world.microgrid)
    assert found and found[0].source == KEYWORDS and found[0].confidence is None
    assert found[0].case_type.code == OIL and found[0].matched


def test_router_learns_the_streets_types_and_says_it_spoke(trained, world):
    assert trained.cases == 21 and trained.types == 3 and trained.held_out == 4
    found = suggestions_for(
        street=world.street, text="隔壁烧烤店的油烟太呛了", area=world.microgrid
    )
    assert [s.source for s in found] == [MODEL] * 3
    assert found[0].case_type.code == OIL
    assert 0 < found[0].confidence <= 1
    assert found[0].confidence >= found[1].confidence >= found[2].confidence
    assert found[0].preselect and not found[1].preselect
    # The unit is the one that finally handled such cases here, not the type's default.
    assert found[0].unit == police(world)


def test_returned_and_transferred_units_count_against_themselves(world):
    settings_for(world, min_training_cases=10)
    committee = world.grid_worker.unit
    for text in TEXTS[LAMP][:4]:
        case, _ = services.case_report(area=world.microgrid, source="resident", description=text)
        case = services.case_accept(
            case=case, actor=world.dispatcher, case_type=case_type(world, LAMP)
        )
        case = services.case_dispatch(case=case, actor=world.dispatcher, unit=committee)
        case = services.case_transfer(
            case=case, actor=world.dispatcher, unit=police(world), reason="应由派出所处理"
        )
        case = services.case_claim(case=case, actor=world.handler)
        services.case_resolve(case=case, actor=world.handler, result="已修", evidence="已修")
    for code in (OIL, NOISE):
        for text in TEXTS[code][:4]:
            closed_case(world, code, text)
    model = router_train(street=world.street).model
    assert model is not None
    anywhere = model.units[f"{case_type(world, LAMP).pk}|"]
    assert anywhere[str(police(world).pk)] == 4 and anywhere[str(committee.pk)] == -4
    found = suggestions_for(street=world.street, text="路灯坏了", area=world.microgrid)
    assert found[0].case_type.code == LAMP and found[0].unit == police(world)


def test_routing_train_trains_every_street_and_status_tells(world, capsys):
    settings_for(world, min_training_cases=10)
    history(world)
    reports = {r.street: r for r in routing_train()}
    assert reports[world.street].model is not None
    assert reports[world.other_street].model is None
    call_command("routing", "status")
    out = capsys.readouterr().out
    assert "城厢街道:模型推荐" in out and "事件 21 件" in out and "留出 4 件检验准确率" in out
    assert "南星街道:尚未训练,按关键词推荐" in out
    call_command("routing", "train", "--street", world.street.code)
    assert "已用 21 件已办结事件训练分拨模型" in capsys.readouterr().out
    assert RouterModel.objects.filter(street=world.street).count() == 2


def test_a_newer_model_replaces_the_one_in_memory(trained, world):
    before = suggestions_for(street=world.street, text="路灯不亮", area=world.microgrid)
    for text in TEXTS[NOISE]:
        closed_case(world, NOISE, text + "再次反映")
    newer = router_train(street=world.street).model
    assert newer is not None and newer.pk != trained.pk and newer.cases == 28
    after = suggestions_for(street=world.street, text="路灯不亮", area=world.microgrid)
    assert before[0].confidence != after[0].confidence


# The evaluate command --------------------------------------------------------------------------


def _write_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["title", "text", "label"])
        writer.writerows(rows)
    return path


def _rows(per: int, offset: int = 0) -> list[tuple[str, str, str]]:
    return [
        (texts[(i + offset) % len(texts)][:6], texts[(i + offset) % len(texts)], code)
        for code, texts in TEXTS.items()
        for i in range(per)
    ]


def test_evaluate_prints_accuracy_macro_f1_and_a_table(tmp_path, capsys):
    train = _write_csv(tmp_path / "train.csv", _rows(5))
    book = Workbook()
    sheet = book.active
    sheet.append(["label", "text", "title"])  # any column order
    for title, text, label in _rows(2, offset=5):
        sheet.append([label, text, title])
    book.save(tmp_path / "test.xlsx")
    call_command(
        "routing", "evaluate", "--train", str(train), "--test", str(tmp_path / "test.xlsx")
    )
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "训练 15 条,检验 6 条"
    assert out[1].startswith("accuracy ") and " macro_f1 " in out[1]
    accuracy = float(out[1].split()[1])
    assert 0.5 <= accuracy <= 1
    assert out[2].split() == ["类别", "precision", "recall", "f1", "support"]
    assert {line.split()[0] for line in out[3:]} == {OIL, LAMP, NOISE}
    assert all(line.split()[-1] == "2" for line in out[3:])


def test_evaluate_cross_validates_one_file(tmp_path, capsys):
    train = _write_csv(tmp_path / "train.csv", _rows(6))
    call_command("routing", "evaluate", "--train", str(train), "--cv", "3")
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "3 折交叉检验,共 18 条" and out[1].startswith("accuracy ")


def test_evaluate_refuses_bad_files_in_chinese(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("title,body\n甲,乙\n", encoding="utf-8")
    with pytest.raises(CommandError, match="缺少列:text、label"):
        call_command("routing", "evaluate", "--train", str(bad), "--cv", "3")
    (tmp_path / "a.txt").write_text("title,text,label\n", encoding="utf-8")
    with pytest.raises(CommandError, match=r"只支持 \.csv 或 \.xlsx"):
        call_command("routing", "evaluate", "--train", str(tmp_path / "a.txt"), "--cv", "3")
    good = _write_csv(tmp_path / "good.csv", _rows(3))
    with pytest.raises(CommandError, match="--cv 不能大于最小类别的样本数 3"):
        call_command("routing", "evaluate", "--train", str(good), "--cv", "5")
    with pytest.raises(CommandError, match="请给出 --test"):
        call_command("routing", "evaluate", "--train", str(good))


@pytest.mark.skipif(not DEV.exists(), reason="the development sample lives beside the repo")
def test_the_development_sample_is_routed_well_beyond_chance():
    from shanzhi.routing.datasets import dataset_read

    docs, labels = dataset_read(DEV)
    result = pipeline.cross_validate(docs, labels, 5)
    assert result.tested == len(docs) == 148
    assert result.accuracy > 0.7  # seven classes: chance is about 0.2


# Pages and API ---------------------------------------------------------------------------------


def test_intake_panel_loads_by_htmx_without_eval(client, world):
    client.force_login(world.dispatcher)
    html = _html(client.get("/desk/intake/"))
    assert 'id="routing-panel"' in html and "hx-include" in html
    assert "js:" not in html and "web/routing.js" in html


def test_intake_suggestions_fragment(client, trained, world):
    client.force_login(world.dispatcher)
    html = _html(
        client.get(
            "/routing/suggest/",
            {"description": "烧烤店油烟直排", "area": world.microgrid.code},
            HTTP_HX_REQUEST="true",
        )
    )
    assert "<html" not in html and "餐饮油烟扰民" in html and "模型 置信度" in html
    assert f'data-type="{case_type(world, OIL).pk}"' in html
    assert f'data-unit="{police(world).pk}"' in html and 'data-preselect="1"' in html
    assert "请先选择发生地" in _html(client.get("/routing/suggest/", {"description": "油烟"}))
    other = client.get("/routing/suggest/", {"description": "油烟", "area": world.other_grid.code})
    assert "没有找到该辖区" in _html(other)
    client.force_login(world.handler)
    assert client.get("/routing/suggest/", {"description": "油烟"}).status_code == 403


def test_case_page_preselects_only_a_confident_type(client, trained, world):
    case = make_case(world, text="楼下烧烤店油烟很呛")
    client.force_login(world.dispatcher)
    html = _html(client.get(f"/cases/{case.number}/"))
    assert 'id="routing-panel"' in html
    assert f'<option value="{case_type(world, OIL).pk}" selected>' in html
    fragment = _html(client.get(f"/routing/cases/{case.number}/suggestions/"))
    assert "餐饮油烟扰民" in fragment and "模型 置信度" in fragment
    settings_for(world, preselect_confidence=0.99)
    html = _html(client.get(f"/cases/{case.number}/"))
    assert f'<option value="{case_type(world, OIL).pk}" selected>' not in html
    client.force_login(world.leader)
    assert "routing-panel" not in _html(client.get(f"/cases/{case.number}/"))
    assert "餐饮油烟扰民" not in _html(client.get(f"/routing/cases/{case.number}/suggestions/"))


def _bearer(user) -> dict[str, str]:
    return {"authorization": f"Bearer {api_token_create(name='测试', user=user)[1]}"}


def _matches(document, body, path):
    from jsonschema import Draft202012Validator

    schema = document["paths"][f"/api/v1{path}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    validator = Draft202012Validator({**schema, "components": document["components"]})
    assert [e.message for e in validator.iter_errors(body)] == []


def test_api_suggestions_keep_the_documented_contract(client, trained, world):
    document = client.get("/api/v1/openapi.json").json()
    case = make_case(world, text="路灯坏了,晚上很黑")
    response = client.get(
        f"/api/v1/cases/{case.number}/suggestions", headers=_bearer(world.dispatcher)
    )
    assert response.status_code == 200
    body = response.json()
    _matches(document, body, "/cases/{number}/suggestions")
    top = body["items"][0]
    assert len(body["items"]) == 3 and top["source"] == "模型"
    assert top["case_type_code"] == LAMP and 0 < top["confidence"] <= 1
    assert top["unit"] == {"id": police(world).pk, "name": police(world).name}
    response = client.get(
        "/api/v1/routing/suggestions",
        {"text": "广场舞音响太吵", "area_code": world.microgrid.code},
        headers=_bearer(world.dispatcher),
    )
    assert response.status_code == 200
    _matches(document, response.json(), "/routing/suggestions")
    assert response.json()["items"][0]["case_type_code"] == NOISE
    refused = client.get(f"/api/v1/cases/{case.number}/suggestions", headers=_bearer(world.handler))
    assert refused.status_code == 403 and refused.json()["code"] == "permission_denied"
    bad = client.get(
        "/api/v1/routing/suggestions",
        {"text": "路灯", "area_code": world.other_grid.code},
        headers=_bearer(world.dispatcher),
    )
    assert bad.status_code == 422 and "没有找到该辖区" in json.dumps(bad.json(), ensure_ascii=False)


def test_the_routers_own_arithmetic_equals_sklearns():
    import numpy as np

    docs = [pipeline.Doc(t[:4], t) for texts in TEXTS.values() for t in texts]
    labels = [code for code, texts in TEXTS.items() for _ in texts]
    for wanted in (labels, [OIL if code == OIL else "其他" for code in labels]):  # many, two
        router = pipeline.fit(docs, wanted)
        sklearn = router.fitted.predict_proba([d.joined for d in docs])
        assert np.allclose(router.proba(docs), sklearn)
        assert router.predict(docs) == [str(router.classes[i]) for i in sklearn.argmax(axis=1)]
