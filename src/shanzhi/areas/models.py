from django.db import models

PATH_SEPARATOR = "/"


class Level(models.TextChoices):
    CITY = "city", "市"
    DISTRICT = "district", "区县"
    STREET = "street", "街道"
    ZONE = "zone", "片区"
    COMMUNITY = "community", "社区"
    GRID = "grid", "网格"
    DEDICATED_GRID = "dedicated_grid", "专属网格"
    MICROGRID = "microgrid", "微网格"


# Which levels a node of each level may sit under; None means it may be a root.
PARENT_LEVELS: dict[str, tuple[str | None, ...]] = {
    Level.CITY: (None,),
    Level.DISTRICT: (None, Level.CITY),
    Level.STREET: (None, Level.DISTRICT),
    Level.ZONE: (Level.STREET,),
    Level.COMMUNITY: (Level.STREET, Level.ZONE),
    Level.GRID: (Level.COMMUNITY,),
    Level.DEDICATED_GRID: (Level.STREET, Level.ZONE, Level.COMMUNITY),
    Level.MICROGRID: (Level.GRID, Level.DEDICATED_GRID),
}

# Levels that are the street or lie below it carry the street as their tenant key.
STREET_AND_BELOW = frozenset(
    {
        Level.STREET,
        Level.ZONE,
        Level.COMMUNITY,
        Level.GRID,
        Level.DEDICATED_GRID,
        Level.MICROGRID,
    }
)


class Area(models.Model):
    """A node of the area tree (辖区): city, district, street and the grid below it.

    `path` is the materialized path of codes from the root, each followed by "/", so a subtree is
    one indexed prefix query and the ancestors are read off the path itself.
    """

    code = models.CharField("编码", max_length=32, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=20, choices=Level.choices)
    parent = models.ForeignKey(
        "self",
        verbose_name="上级",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    street = models.ForeignKey(
        "self",
        verbose_name="所属街道",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="租户键:街道及以下的节点均记录所属街道",
    )
    path = models.CharField("路径", max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField("深度", editable=False)
    boundary = models.JSONField("边界(GeoJSON)", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "辖区"
        verbose_name_plural = "辖区"
        ordering = ["path"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(level__in=[choice.value for choice in Level]),
                name="area_level_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(depth__gte=1) & models.Q(path__endswith=PATH_SEPARATOR),
                name="area_path_shape",
            ),
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9A-Z]{4,32}$"),
                name="area_code_shape",
            ),
        ]
        indexes = [models.Index(fields=["street", "level"], name="area_street_level")]

    def __str__(self) -> str:
        return f"{self.name}({self.get_level_display()})"

    @property
    def ancestor_paths(self) -> list[str]:
        """Paths of this node's ancestors, root first, derived from its own path."""
        codes = self.path.rstrip(PATH_SEPARATOR).split(PATH_SEPARATOR)[:-1]
        return [PATH_SEPARATOR.join(codes[: i + 1]) + PATH_SEPARATOR for i in range(len(codes))]

    def is_within(self, other: "Area") -> bool:
        """True when this node is `other` or lies below it."""
        return self.path.startswith(other.path)
