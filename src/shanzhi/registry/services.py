"""Every write to the registry: records, tags, visits, verification tasks, case links, and the
logged reads of personal data in the clear. Pages, API, imports and the demo all come here."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q

from shanzhi import clock, policy
from shanzhi.accounts.models import User
from shanzhi.areas.models import Area
from shanzhi.cases.models import Case, Source
from shanzhi.cases.services import case_report
from shanzhi.errors import DomainError, PermissionDenied
from shanzhi.masking import mask_phone
from shanzhi.protection import digest, seal, unseal
from shanzhi.registry.defaults import PRIVILEGES, TAGS
from shanzhi.registry.models import (
    AccessField,
    AccessLog,
    AccessVia,
    Building,
    CaseLink,
    Enterprise,
    Facility,
    House,
    ItemStatus,
    Person,
    PersonTag,
    RecordKind,
    RolePrivilege,
    Tag,
    TagKind,
    VerificationItem,
    VerificationTask,
    Visit,
)
from shanzhi.registry.validators import credit_code_check, phone_check, resident_id_check


class RecordConflict(DomainError):
    code = "version_conflict"


RecordModel = type[Building] | type[House] | type[Person] | type[Enterprise] | type[Facility]
AnyRecord = Building | House | Person | Enterprise | Facility

# The fields of each record that only unmasking reveals, and where each is kept sealed.
SEALED_FIELDS: dict[str, tuple[str, str]] = {
    AccessField.ID_NUMBER: ("id_number_sealed", "身份证号"),
    AccessField.PHONE: ("phone_sealed", "联系电话"),
    AccessField.CONTACT_PHONE: ("contact_phone_sealed", "企业联系电话"),
}
RECORD_KINDS: dict[str, RecordModel] = {
    "person": Person,
    "house": House,
    "building": Building,
    "enterprise": Enterprise,
    "facility": Facility,
}


def kind_of(record: AnyRecord) -> str:
    return type(record).__name__.lower()


def mask_resident_id(number: str) -> str:
    """330109********123X: the region and the last four, never the birth date."""
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"


def person_protected_fields(*, id_number: str, phone: str) -> dict[str, Any]:
    """Validate an ID number and phone and return the sealed, digested and masked columns,
    with birth date and sex read from the number. Imports build rows with it too."""
    resident = resident_id_check(id_number)
    phone = phone_check(phone) if phone.strip() else ""
    return {
        "id_number_sealed": seal(resident.number),
        "id_number_digest": digest(resident.number),
        "id_number_masked": mask_resident_id(resident.number),
        "birth_date": resident.birth_date,
        "sex": resident.sex,
        "phone_sealed": seal(phone),
        "phone_digest": digest(phone),
        "phone_masked": mask_phone(phone) if phone else "",
    }


def contact_phone_fields(phone: str) -> dict[str, str]:
    phone = phone_check(phone) if phone.strip() else ""
    return {
        "contact_phone_sealed": seal(phone),
        "contact_phone_digest": digest(phone),
        "contact_phone_masked": mask_phone(phone) if phone else "",
    }


def record_area_check(area: Area) -> int:
    """Records sit on the grid's lowest rungs (a microgrid, grid or dedicated grid); the
    street they belong to is returned."""
    if area.level not in policy.FIELD_LEVELS or area.street_id is None:
        raise DomainError("登记对象须落在网格或微网格上", code="record_area")
    return area.street_id


def _edit_check(actor: User | None, area: Area) -> int:
    street_id = record_area_check(area)
    if actor is not None and not policy.can_edit_records_at(actor, area):
        raise PermissionDenied("无权在该网格登记或修改记录")
    return street_id


def _unique_or_error(create: Any) -> Any:
    """Run a create or save whose natural key may already be taken, in Chinese when it is."""
    try:
        with transaction.atomic():
            return create()
    except IntegrityError as exc:
        message = "该记录已登记(身份证号、信用代码、地址或编号重复)"
        raise DomainError(message, code="duplicate") from exc


def record_create(
    *,
    actor: User | None,
    model: RecordModel,
    area: Area,
    fields: dict[str, Any],
    tags: Iterable[Tag] | None = None,
) -> AnyRecord:
    """Create a record of `model` in `area` from already validated `fields` (and, for a
    person, `tags`, in the same transaction).

    `fields` for persons and enterprises carry the protected columns built by
    `person_protected_fields` / `enterprise_fields`.
    """
    street_id = _edit_check(actor, area)

    def create() -> AnyRecord:
        record = model.objects.create(street_id=street_id, area=area, **fields)
        if tags is not None and isinstance(record, Person):
            person_tags_set(actor=actor, person=record, tags=tags)
        return record

    return _unique_or_error(create)


def record_update(
    *,
    actor: User | None,
    record: AnyRecord,
    expected_version: int,
    fields: dict[str, Any],
    area: Area | None = None,
    tags: Iterable[Tag] | None = None,
) -> AnyRecord:
    """Change a record (and a person's `tags`) if nobody changed it since `expected_version`
    was read."""
    target_area = area or record.area
    _edit_check(actor, record.area)
    if target_area.pk != record.area_id:
        _edit_check(actor, target_area)
        if target_area.street_id != record.street_id:
            raise DomainError("记录不能移到其他街道", code="record_area")
    model = type(record)
    with transaction.atomic():
        changed = model.objects.filter(
            pk=record.pk, version=expected_version, deleted_at__isnull=True
        ).update(area=target_area, version=expected_version + 1, **fields)
        if not changed:
            raise RecordConflict("该记录已被他人修改或注销,请刷新后再改")
        if tags is not None and isinstance(record, Person):
            person_tags_set(actor=actor, person=record, tags=tags)
    record.refresh_from_db()
    return record


def record_delete(*, actor: User | None, record: AnyRecord, expected_version: int) -> AnyRecord:
    """Soft-delete (注销): the record leaves lists, but cases and visits still show it."""
    _edit_check(actor, record.area)
    moment = clock.now()
    changed = (
        type(record)
        .objects.filter(pk=record.pk, version=expected_version, deleted_at__isnull=True)
        .update(deleted_at=moment, version=expected_version + 1)
    )
    if not changed:
        raise RecordConflict("该记录已被他人修改或注销,请刷新后再改")
    record.refresh_from_db()
    return record


def enterprise_fields(
    *,
    name: str,
    credit_code: str,
    scale: str,
    address: str,
    industry: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    employees: int | None = None,
    building: Building | None = None,
) -> dict[str, Any]:
    if not name.strip():
        raise DomainError("请填写企业名称", code="required")
    return {
        "name": name.strip(),
        "credit_code": credit_code_check(credit_code),
        "scale": scale,
        "address": address.strip(),
        "industry": industry.strip(),
        "contact_name": contact_name.strip(),
        "employees": employees,
        "building": building,
        **contact_phone_fields(contact_phone),
    }


def person_tags_set(*, actor: User | None, person: Person, tags: Iterable[Tag]) -> None:
    """Replace the person's tags with `tags`. Sensitive tags are set and cleared only by those
    who may see them; the others' edits leave them untouched."""
    wanted = {tag.pk: tag for tag in tags}
    may_sensitive = actor is None or policy.can_see_sensitive_tags(actor, person.area)
    if not may_sensitive and any(t.kind == TagKind.SENSITIVE for t in wanted.values()):
        raise PermissionDenied("无权设置重点管理标签")
    current = PersonTag.objects.filter(person=person).select_related("tag")
    with transaction.atomic():
        for tagging in current:
            if tagging.tag_id in wanted:
                del wanted[tagging.tag_id]
            elif may_sensitive or tagging.tag.kind != TagKind.SENSITIVE:
                tagging.delete()
        PersonTag.objects.bulk_create(PersonTag(person=person, tag=tag) for tag in wanted.values())


# Personal data in the clear ---------------------------------------------------------------


def personal_reveal(
    *, actor: User, record: AnyRecord, field: str, reason: str, via: str = AccessVia.PAGE
) -> str:
    """The clear value of a sealed field, for those allowed, with the read written to the log."""
    reason = reason.strip()
    if field not in SEALED_FIELDS or not hasattr(record, SEALED_FIELDS[field][0]):
        raise DomainError("该字段不能查看", code="field")
    if not policy.can_unmask(actor, record):
        raise PermissionDenied("您的角色无权查看完整个人信息")
    if not reason:
        raise DomainError("请填写查看原因,查看记录将留存备查", code="reason_required")
    value = unseal(getattr(record, SEALED_FIELDS[field][0]))
    AccessLog.objects.create(
        at=clock.now(),
        user=actor,
        street_id=record.street_id,
        area_id=record.area_id,
        subject_kind=kind_of(record),
        subject_id=record.pk,
        subject_label=str(record)[:120],
        field=field,
        via=via,
        reason=reason[:200],
    )
    return value


def export_log(
    *, actor: User, area: Area, kind: str, count: int, reason: str, via: str = AccessVia.EXPORT
) -> None:
    """An export that carries personal data in the clear: one log row for the whole file."""
    if not policy.can_export_personal(actor, area):
        raise PermissionDenied("您的角色无权导出含个人信息的清单")
    if not reason.strip():
        raise DomainError("请填写导出原因,导出记录将留存备查", code="reason_required")
    AccessLog.objects.create(
        at=clock.now(),
        user=actor,
        street_id=area.street_id or area.pk,
        area=area,
        subject_kind=kind,
        subject_id=0,
        subject_label=f"{area.name}清单",
        field=AccessField.EXPORT,
        via=via,
        reason=reason.strip()[:200],
        record_count=count,
    )


# Visits -----------------------------------------------------------------------------------


def visit_log(
    *,
    actor: User,
    summary: str,
    person: Person | None = None,
    enterprise: Enterprise | None = None,
    visited_at: datetime | None = None,
    problems: str = "",
    raise_case: bool = False,
) -> Visit:
    """Log a visit (走访). Problems an enterprise raises may become its appeal case at once."""
    subject: Person | Enterprise | None = person or enterprise
    if subject is None or (person is not None and enterprise is not None):
        raise DomainError("一次走访须对应一名居民或一家企业", code="visit_subject")
    if not summary.strip():
        raise DomainError("请填写走访情况", code="required")
    if not policy.can_visit(actor, subject):
        raise PermissionDenied("无权走访该网格的对象")
    moment = visited_at or clock.now()
    if moment > clock.now():
        raise DomainError("走访时间不能晚于现在", code="visited_at")
    problems = problems.strip()
    if raise_case and not problems:
        raise DomainError("请填写反映的问题,再转为诉求事件", code="required")
    with transaction.atomic():
        case = None
        if raise_case:
            case, _ = case_report(
                area=subject.area,
                source=Source.ENTERPRISE if enterprise is not None else Source.GRID_PATROL,
                description=problems,
                title=f"{subject}走访反映问题"[:200],
                actor=actor,
                address=getattr(subject, "address", ""),
            )
            case_link_add(actor=None, case=case, record=subject)
        return Visit.objects.create(
            street_id=subject.street_id,
            area_id=subject.area_id,
            visitor=actor,
            visited_at=moment,
            person=person,
            enterprise=enterprise,
            summary=summary.strip(),
            problems=problems,
            case=case,
        )


# Verification tasks (核查) ----------------------------------------------------------------


def verification_task_create(
    *,
    actor: User,
    title: str,
    record_kind: str,
    areas: Sequence[Area],
    due_on: date,
    note: str = "",
) -> VerificationTask:
    """Order every live person or house in `areas` (and below) verified by its grid worker."""
    if not title.strip():
        raise DomainError("请填写任务名称", code="required")
    if record_kind not in RecordKind.values:
        raise DomainError("核查对象须为居民或房屋", code="record_kind")
    if not areas:
        raise DomainError("请选择要核查的网格", code="required")
    streets = {area.street_id for area in areas}
    street_id = next(iter(streets))
    if len(streets) != 1 or street_id is None:
        raise DomainError("一个核查任务只能在同一个街道之内", code="areas")
    for area in areas:
        if not policy.can_issue_verification(actor, area):
            raise PermissionDenied(f"无权对{area.name}发布核查任务")
    if due_on < clock.now().date():
        raise DomainError("完成期限不能早于今天", code="due_on")
    model = Person if record_kind == RecordKind.PERSON else House
    under = Q(pk__in=[])
    for area in areas:
        under |= Q(area__path__startswith=area.path)
    with transaction.atomic():
        task = VerificationTask.objects.create(
            street_id=street_id,
            title=title.strip(),
            record_kind=record_kind,
            due_on=due_on,
            note=note.strip(),
            created_by=actor,
            created_at=clock.now(),
        )
        task.areas.set(areas)
        records = model.objects.filter(under, deleted_at__isnull=True).values_list("pk", "area_id")
        VerificationItem.objects.bulk_create(
            (
                VerificationItem(task=task, area_id=area_id, **{f"{record_kind}_id": pk})
                for pk, area_id in records.iterator()
            ),
            batch_size=2000,
        )
    return task


def verification_item_check(
    *, actor: User, item: VerificationItem, status: str, note: str = ""
) -> VerificationItem:
    """Mark one record verified as it is, or corrected (the record was edited to match)."""
    if status not in (ItemStatus.VERIFIED, ItemStatus.CORRECTED):
        raise DomainError("核查结果须为已核实或已更正", code="status")
    if status == ItemStatus.CORRECTED and not note.strip():
        raise DomainError("请说明更正了什么", code="required")
    if not policy.can_check_item(actor, item):
        raise PermissionDenied("该记录不在您的网格内")
    moment = clock.now()
    with transaction.atomic():
        item.status = status
        item.note = note.strip()[:200]
        item.checked_by = actor
        item.checked_at = moment
        item.save(update_fields=["status", "note", "checked_by", "checked_at"])
        if item.person_id is not None:
            Person.objects.filter(pk=item.person_id).update(verified_at=moment)
        else:
            House.objects.filter(pk=item.house_id or 0).update(verified_at=moment)
    return item


# Cases pointing at records ----------------------------------------------------------------


def case_link_add(*, actor: User | None, case: Case, record: AnyRecord) -> CaseLink:
    """Point `case` at a registry record of its own street (once)."""
    if record.street_id != case.street_id:
        raise DomainError("只能关联本街道的记录", code="case_link")
    if actor is not None and not (
        policy.can_view_case(actor, case)
        and policy.records_visible_to(actor, type(record)).filter(pk=record.pk).exists()
    ):
        raise PermissionDenied("无权关联该记录")
    link, _ = CaseLink.objects.get_or_create(
        case=case, **{kind_of(record): record}, defaults={"created_by": actor}
    )
    return link


def registry_defaults_seed() -> None:
    """Put back the standard tags and privileges where they are missing (never overwrite)."""
    for sort, (code, name, kind, interval) in enumerate(TAGS):
        Tag.objects.get_or_create(
            code=code,
            defaults={"name": name, "kind": kind, "visit_interval_days": interval, "sort": sort},
        )
    for role, privilege in PRIVILEGES:
        RolePrivilege.objects.get_or_create(role=role, privilege=privilege)


# A case reporter's phone -------------------------------------------------------------------


def reporter_phone_shown(*, viewer: Any, case: Case) -> str:
    """The reporter's phone as pages and the API show it unasked: the reporter's own number in
    the clear, everyone else's masked (reading it in the clear is `case_contact_reveal`)."""
    if viewer is not None and viewer.is_authenticated and case.reporter_id == viewer.pk:
        return case.reporter_phone
    return mask_phone(case.reporter_phone) if case.reporter_phone else ""


def may_reveal_contact(viewer: Any, case: Case) -> bool:
    """Whether the viewer is offered the reporter's phone in the clear (not their own)."""
    return (
        bool(case.reporter_phone)
        and case.reporter_id != getattr(viewer, "pk", None)
        and policy.can_see_reporter_contact(viewer, case)
    )


def case_contact_reveal(*, actor: User, case: Case, reason: str, via: str = AccessVia.PAGE) -> str:
    """The reporter's phone in the clear, for those who call back or handle the case, with the
    read written to the access log like any other personal data."""
    if not case.reporter_phone:
        raise DomainError("该事件没有留联系电话", code="no_contact")
    if not policy.can_see_reporter_contact(actor, case):
        raise PermissionDenied("无权查看上报人的联系电话")
    reason = reason.strip()
    if not reason:
        raise DomainError("请填写查看原因,查看记录将留存备查", code="reason_required")
    AccessLog.objects.create(
        at=clock.now(),
        user=actor,
        street_id=case.street_id,
        area_id=case.area_id,
        subject_kind="case",
        subject_id=case.pk,
        subject_label=f"事件{case.number}上报人",
        field=AccessField.PHONE,
        via=via,
        reason=reason[:200],
    )
    return case.reporter_phone
