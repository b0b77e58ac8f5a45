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


class UncountedPaginator:
    """Pages that are not counted: each page reads one row more than it
    shows, to know whether another page follows, and the total is known only
    on the last page. For lists where counting costs as much as finding the
    rows (a search for a common word reads every match to count it), and
    where the first pages are what is read.

    Pages stop after `cap` rows, as CappedPaginator's do; `capped` says that
    there were more. `count` is the exact total once the last page is
    reached, else None (the template says "50+"); `num_pages` likewise.
    """

    def __init__(self, object_list, per_page: int, *, cap: int):
        self.object_list, self.per_page, self.cap = object_list, per_page, cap
        self.count = self.num_pages = None
        self.capped = False

    def get_page(self, number) -> "UncountedPage":
        try:
            number = max(int(number), 1)
        except (TypeError, ValueError):
            number = 1
        number = min(number, -(-self.cap // self.per_page))
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.cap)
        rows = list(self.object_list[bottom : top + 1])
        if not rows and number > 1:
            return self.get_page(1)  # past the end: the first page
        more = len(rows) > top - bottom
        if more and top == self.cap:
            self.capped, more = True, False
        if not more:
            self.count = bottom + min(len(rows), top - bottom)
            self.num_pages = number
        return UncountedPage(rows[: top - bottom], number, self, has_next=more)


class UncountedPage:
    """A page of UncountedPaginator, with what the templates ask of a
    Django Page."""

    def __init__(self, object_list, number: int, paginator, *, has_next: bool):
        self.object_list, self.number, self.paginator = object_list, number, paginator
        self._has_next = has_next

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)

    def has_next(self) -> bool:
        return self._has_next

    def has_previous(self) -> bool:
        return self.number > 1

    def has_other_pages(self) -> bool:
        return self.has_next() or self.has_previous()

    def next_page_number(self) -> int:
        return self.number + 1

    def previous_page_number(self) -> int:
        return self.number - 1

    def start_index(self) -> int:
        if not self.object_list:
            return 0
        return (self.number - 1) * self.paginator.per_page + 1

    def end_index(self) -> int:
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)
