from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from shanzhi.areas.models import Area, Level
from shanzhi.errors import DomainError
from shanzhi.routing import pipeline
from shanzhi.routing.datasets import dataset_read
from shanzhi.routing.selectors import routing_status
from shanzhi.routing.services import TrainReport, router_train, routing_train


class Command(BaseCommand):
    help = (
        "智能分拨:train 用本街道已办结事件(以坐席受理时改定的类型、转办和退回后的最终承办单位为准)"
        "训练分拨模型;status 查看各街道模型状态;evaluate 用任意带类别的文件"
        "(csv 或 xlsx,列 title、text、label)检验同一套模型。"
        "定时训练:crontab 中每晚运行一次 shanzhi routing train。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="what", required=True)
        train = sub.add_parser("train", help="训练分拨模型")
        train.add_argument("--street", help="只训练该街道(9位区划代码)")
        status = sub.add_parser("status", help="模型状态")
        status.add_argument("--street", help="只看该街道(9位区划代码)")
        evaluate = sub.add_parser("evaluate", help="在带类别的文件上检验")
        evaluate.add_argument("--train", type=Path, required=True, help="训练文件 csv/xlsx")
        evaluate.add_argument("--test", type=Path, help="检验文件 csv/xlsx")
        evaluate.add_argument("--cv", type=int, default=0, help="在训练文件上做 K 折交叉检验")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            getattr(self, f"_{options['what']}")(options)
        except DomainError as exc:
            raise CommandError(exc.message) from exc

    def _streets(self, code: str | None) -> list[Area]:
        streets = Area.objects.filter(level=Level.STREET).order_by("path")
        if code:
            streets = streets.filter(code=code)
            if not streets:
                raise CommandError(f"没有编码为 {code} 的街道")
        return list(streets)

    def _train(self, options: dict[str, Any]) -> None:
        reports: list[TrainReport] = (
            [router_train(street=s) for s in self._streets(options["street"])]
            if options["street"]
            else routing_train()
        )
        for report in reports:
            model = report.model
            if model is None:
                self.stdout.write(f"{report.street.name}:{report.reason}")
                continue
            held = (
                f",留出 {model.held_out} 件检验准确率 {model.accuracy:.1%}"
                if model.accuracy is not None
                else ""
            )
            self.stdout.write(
                self.style.SUCCESS(
                    f"{report.street.name}:已用 {model.cases} 件已办结事件训练分拨模型,"
                    f"覆盖 {model.types} 个事项类型{held}"
                )
            )

    def _status(self, options: dict[str, Any]) -> None:
        for street in self._streets(options["street"]):
            status = routing_status(street=street)
            model = status["model"]
            if model is None:
                self.stdout.write(
                    f"{street.name}:尚未训练,按关键词推荐"
                    f"(已办结事件达到 {status['min_training_cases']} 件后可训练)"
                )
                continue
            held = (
                f"留出 {model.held_out} 件检验准确率 {model.accuracy:.1%},宏F1 {model.macro_f1:.3f}"
                if model.accuracy is not None
                else "未留出检验"
            )
            self.stdout.write(
                f"{street.name}:{status['speaks']}推荐;"
                f"训练于 {timezone.localtime(model.trained_at):%Y-%m-%d %H:%M},"
                f"事件 {model.cases} 件,事项类型 {model.types} 个,{held};"
                f"置信度不低于 {status['preselect_confidence']:.0%} 时预选事项类型"
            )

    def _evaluate(self, options: dict[str, Any]) -> None:
        docs, labels = dataset_read(options["train"])
        if options["test"] is not None:
            tested = dataset_read(options["test"])
            result = pipeline.evaluate((docs, labels), tested)
            self.stdout.write(f"训练 {len(docs)} 条,检验 {result.tested} 条")
        elif options["cv"] >= 2:
            smallest = min(labels.count(label) for label in pipeline.learnable(labels))
            if options["cv"] > smallest:
                raise CommandError(f"--cv 不能大于最小类别的样本数 {smallest}")
            result = pipeline.cross_validate(docs, labels, options["cv"])
            self.stdout.write(f"{options['cv']} 折交叉检验,共 {result.tested} 条")
        else:
            raise CommandError("请给出 --test 检验文件,或用 --cv K 在训练文件上交叉检验")
        for line in result.lines():
            self.stdout.write(line)
