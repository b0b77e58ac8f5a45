from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CountingPaginator(Paginator):
    """A paginator told how to count its rows.

    For lists whose rows carry per-row statistics (a GROUP BY over joins):
    counting the annotated queryset repeats every join; counting the plain
    one does not.
    """

    def __init__(self, object_list, per_page, *, count, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self._count = count

    @cached_property
    def count(self) -> int:
        return self._count()
