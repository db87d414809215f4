"""Finding cases again: by the reporter's phone and name, the caller's earlier cases at the desk,
the possible duplicates of a report, and the places a form may take (发生地 by search)."""

from datetime import timedelta

from shanzhi import clock
from shanzhi.cases import services
from shanzhi.cases.models import Case, Source, phone_digest
from shanzhi.cases.selectors import CaseFilters, case_list, case_possible_duplicates, text_likeness

from .case_factories import case_type, make_case
from .registry_factories import make_building

HOTLINE_FUMES = "市民来电反映:景港府1号楼底商川味饭店油烟直排,每天中午傍晚呛得不能开窗,要求处理"
RESIDENT_FUMES = "楼下饭店油烟太大了,家里全是油烟味"


def found(user, query: str) -> set[str]:
    return {case.number for case in case_list(user=user, filters=CaseFilters(query=query))}


def test_a_case_is_found_by_the_whole_phone_however_typed_and_by_the_reporter_name(world):
    mine = make_case(world, reporter_phone="13800001111", reporter_name="王秀英")
    other = make_case(world, reporter_phone="13900002222", reporter_name="李建国")
    assert mine.reporter_phone_digest == phone_digest("13800001111") != ""
    for typed in ("13800001111", "138 0000 1111", "138-0000-1111"):
        assert found(world.dispatcher, typed) == {mine.number}, typed
    # The phone is sealed: part of a number finds nothing, and the digest is not the phone.
    assert "13800001111" not in mine.reporter_phone_digest
    assert found(world.dispatcher, "0000111") == set()
    assert found(world.dispatcher, "秀英") == {mine.number}
    assert found(world.dispatcher, "李建国") == {other.number}
    # Only within the searcher's scope.
    assert found(world.other_leader, "13800001111") == set()


def test_the_case_list_page_searches_by_phone(client, world):
    mine = make_case(world, reporter_phone="13800001111")
    make_case(world, reporter_phone="13900002222")
    client.force_login(world.dispatcher)
    html = client.get("/cases/", {"q": "13800001111"}).content.decode()
    assert f'data-number="{mine.number}"' in html and html.count("data-number=") == 1


def test_the_desk_sees_the_callers_earlier_cases_while_typing_the_phone(client, world):
    earlier = make_case(world, reporter_phone="13800001111", text="小区门口的路灯不亮")
    make_case(world, reporter_phone="13900002222", text="垃圾没人清运")
    client.force_login(world.dispatcher)
    html = client.get("/desk/intake/checks/", {"reporter_phone": "138 0000 1111"}).content
    html = html.decode()
    assert "来电人以往诉求" in html and earlier.number in html
    assert "共有 1 件" in html and "垃圾没人清运" not in html
    html = client.get("/desk/intake/checks/", {"reporter_phone": "13700000000"}).content.decode()
    assert "该电话没有以往诉求记录" in html
    # The intake page asks for these checks as the dispatcher types.
    page = client.get("/desk/intake/").content.decode()
    assert 'hx-get="/desk/intake/checks/"' in page


def test_a_resident_reporting_the_fumes_after_a_hotline_call_is_told_of_it(client, world):
    fumes = case_type(world, "HW-DQ-01")
    call, _ = services.case_report(
        area=world.microgrid,
        source=Source.HOTLINE,
        actor=world.dispatcher,
        description=HOTLINE_FUMES,
        reporter_phone="13800001111",
        case_type=fumes,
    )
    services.case_accept(case=call, actor=world.dispatcher, case_type=fumes)
    with clock.acting_at(call.reported_at + timedelta(minutes=10)):
        resident = make_case(world, text=RESIDENT_FUMES, reporter_phone="13900002222")
    assert text_likeness(RESIDENT_FUMES, HOTLINE_FUMES) < 0.45  # the words alone differ
    assert [c for c, _ in case_possible_duplicates(case=resident, viewer=world.dispatcher)] == [
        call
    ]
    # At acceptance: the resident's case page names the hotline case.
    client.force_login(world.dispatcher)
    page = client.get(f"/cases/{resident.number}/").content.decode()
    assert 'data-testid="case-duplicates"' in page and call.number in page
    # At intake: a second caller about the same fumes is told before registering.
    html = client.get(
        "/desk/intake/checks/",
        {"area": world.microgrid.code, "description": "饭店排油烟呛人", "case_type": fumes.pk},
    ).content.decode()
    assert "疑似重复事件" in html and call.number in html and resident.number in html


def test_duplicates_keep_to_the_place_the_type_the_window_and_open_cases(world):
    fumes = case_type(world, "HW-DQ-01")
    lamp = case_type(world, "WY-SS-01")
    first = make_case(world, text=RESIDENT_FUMES)
    elsewhere = make_case(world, area=world.sibling_microgrid, text=RESIDENT_FUMES)
    on_the_grid = make_case(world, area=world.grid, text=RESIDENT_FUMES)
    other_type = make_case(world, text=RESIDENT_FUMES, case_type=lamp)
    with clock.acting_at(clock.now() - timedelta(days=40)):
        old = make_case(world, text=RESIDENT_FUMES)
    closed = make_case(world, text=RESIDENT_FUMES)
    services.case_reject(case=closed, actor=world.dispatcher, reason="重复")
    draft = make_case(world, text="楼下饭店油烟很大", case_type=fumes)
    got = {c for c, _ in case_possible_duplicates(case=draft, viewer=world.dispatcher)}
    assert got == {first, on_the_grid}
    assert not got & {elsewhere, other_type, old, closed}
    # Read within the viewer's scope: a leader of another street sees none of them.
    assert case_possible_duplicates(case=draft, viewer=world.other_leader) == []


def test_places_are_searched_by_name_code_compound_building_and_address(client, world):
    make_building(world, compound="景港府", name="7幢", address="城厢街道湘湖路88号")
    client.force_login(world.dispatcher)

    def offered(**query) -> str:
        response = client.get("/places/search/", {"for": "intake", **query})
        assert response.status_code == 200
        return response.content.decode()

    for text in ("景港府1号", world.microgrid.code, "湘湖路88", "7幢"):
        assert f'data-code="{world.microgrid.code}"' in offered(q=text), text
    assert "城厢街道湘湖路88号" in offered(q="湘湖路88")
    # Each result says where it lies, so two 1号微网格 of different grids can be told apart.
    assert "湘湖社区 › 湘湖第一网格" in offered(q="景港府1号")
    # Another street's places are not offered to this dispatcher, nor accepted by the form.
    assert world.other_grid.code not in offered(q="复兴")
    assert "没有找到" in offered(q="复兴")
    assert client.get("/places/search/", {"for": "nothing"}).status_code == 404
    assert client.get("/places/search/", {"for": "case", "case": "NOPE"}).status_code == 404


def test_the_intake_page_no_longer_lists_every_place(client, world):
    client.force_login(world.dispatcher)
    html = client.get("/desk/intake/").content.decode()
    assert world.sibling_microgrid.name not in html
    assert 'data-testid="place-search"' in html
    response = client.post(
        "/desk/intake/",
        {
            "source": Source.HOTLINE,
            "area": world.microgrid.code,
            "description": "路灯不亮",
            "client_key": "k-1",
        },
    )
    assert response.status_code == 302
    assert Case.objects.get(client_key="k-1").area == world.microgrid


def test_the_accept_form_searches_the_cases_street(client, world):
    case = make_case(world)
    client.force_login(world.dispatcher)
    html = client.get(f"/cases/{case.number}/").content.decode()
    assert f'hx-get="/places/search/?for=case&amp;case={case.number}"' in html
    # The current place is shown as chosen.
    assert "已选:第一片区 › 湘湖社区 › 湘湖第一网格 › 景港府1号微网格" in html
    offered = client.get(
        "/places/search/", {"for": "case", "case": case.number, "q": "山兴里"}
    ).content.decode()
    assert world.sibling_microgrid.code in offered
