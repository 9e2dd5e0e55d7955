"""Customers and their sales history, simulated line by line with the vectorised visit process.

Vocabulary (also used in ``truth.yml``):

- *entry line*: the business line of a customer's first-ever visit; every customer enters
  exactly one line (uniformly over the history, or from a converted lead);
- *cross journey*: a later journey in another line, started by a planted cross rule
  (``CrossRule``) from the entry line only, ``delay_days`` after the first entry visit;
- *visit*: one customer-day in one line; it produces 1-3 *rows* (services/receipt lines);
- *main staff*: every journey sticks to one doctor/associate, drawn from the line's
  planted staff shares; all its staffed visits carry that person.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np

from toolkit.synthetic.process import median_gap_schedule, simulate_journeys


@dataclass(frozen=True)
class Service:
    name: str
    price: float
    weight: float = 1.0


@dataclass(frozen=True)
class Demography:
    """Gender and age of the customers who enter a line (age on ``as_of``)."""

    female_share: float
    age_mean: float
    age_sd: float
    age_min: int
    age_max: int


@dataclass(frozen=True)
class LineSpec:
    id: str
    raw_names: tuple[tuple[str, float], ...]  # how the export spells the line, with frequencies
    repeat_kind: str
    p_return: tuple[float, ...]  # p_return[k] = P(visit k+2 | visit k+1); the last value repeats
    stage_starts: tuple[int, ...]  # first visit number of each loyalty stage (starts at 2)
    stage_medians: tuple[float, ...]  # median gap (days) before each visit of the stage
    loyalty_visit: int | None
    entry_customers: int  # customers entering this line at scale 1 (besides lead conversions)
    brands: tuple[tuple[str, float], ...]  # brand of entry journeys
    staff: dict[str, tuple[tuple[str, float], ...]]  # brand -> ((name, share), ...)
    main_services: tuple[Service, ...]  # first row of a visit
    extra_services: tuple[Service, ...]  # further rows of a visit
    price_multiplier: dict[str, float]  # brand -> multiplier of the list price
    first_rows: tuple[float, ...]  # P(1, 2, 3 rows) on the first visit
    later_rows: tuple[float, ...]  # P(1, 2, 3 rows) on later visits
    demography: Demography
    channels: tuple[tuple[str, float], ...] = (("offline", 1.0),)


@dataclass(frozen=True)
class CrossRule:
    """Customers entering ``from_line`` start a journey in ``to_line`` with a planted rate.

    ``group`` = (gender or None, min age, max age): customers in the group convert at
    ``group_rate``, the others at ``other_rate``.
    """

    from_line: str
    to_line: str
    group_rate: float
    other_rate: float
    group: tuple[str | None, int, int] | None = None
    group_label: str = ""
    delay_days: tuple[int, int] = (14, 180)
    brands: tuple[tuple[str, float], ...] | None = None  # None: same brand as the entry journey


@dataclass(frozen=True)
class SalesSpec:
    history_start: dt.date
    as_of: dt.date
    lines: tuple[LineSpec, ...]
    cross_rules: tuple[CrossRule, ...]
    brands: tuple[str, ...]
    locations: dict[str, tuple[tuple[str, float], ...]]  # brand -> branches/stores
    online_location: str | None  # location of visits in an 'online' channel
    cities: tuple[tuple[str, float], ...]
    first_sources: tuple[tuple[str, float], ...]
    gap_sigma: float
    min_gap: int
    max_gap: int
    discounts: tuple[tuple[float, float], ...]  # (share off, probability)
    money_step: float  # amounts are rounded to this step
    qty_probs: tuple[float, ...] = (1.0,)  # P(quantity 1, 2, ...) of a row
    price_ending: float = 0.0  # subtracted from each rounded unit price (0.05 -> prices end in .95)


@dataclass
class Sales:
    """The clean simulated sales history as parallel arrays (one element per row)."""

    # customers (one element per customer, index = internal customer number)
    gender: np.ndarray  # 'F'/'M'
    birth_year: np.ndarray
    city: np.ndarray
    first_source: np.ndarray
    entry_line: np.ndarray  # line index
    entry_day: np.ndarray
    home_brand: np.ndarray  # brand index of the entry journey
    # journeys
    j_customer: np.ndarray
    j_line: np.ndarray
    j_brand: np.ndarray
    j_staff: np.ndarray  # index into staff_names
    j_location: np.ndarray  # index into location_names
    j_start: np.ndarray
    j_cross_rule: np.ndarray  # -1 for entry journeys
    # visits
    v_journey: np.ndarray
    v_no: np.ndarray
    v_day: np.ndarray
    v_channel: np.ndarray  # index into channel_names
    # rows
    r_visit: np.ndarray
    r_service: np.ndarray  # index into service_names
    r_qty: np.ndarray
    r_amount: np.ndarray
    # lookups
    staff_names: np.ndarray
    location_names: np.ndarray
    service_names: np.ndarray
    channel_names: np.ndarray
    external_customer: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def n_customers(self) -> int:
        return int(self.gender.size)


def _choice(rng, options: tuple[tuple[str, float], ...], size: int) -> np.ndarray:
    """Indices into ``options`` drawn with their (normalised) weights."""
    w = np.array([o[1] for o in options], dtype=float)
    return rng.choice(len(options), size=size, p=w / w.sum())


def _ages(rng, d: Demography, size: int) -> np.ndarray:
    a = np.rint(rng.normal(d.age_mean, d.age_sd, size))
    return np.clip(a, d.age_min, d.age_max).astype(np.int64)


def simulate_sales(
    spec: SalesSpec,
    rng: np.random.Generator,
    scale: float,
    external_entries: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None = None,
) -> Sales:
    """Simulate customers, journeys, visits and rows.

    ``external_entries[line_id] = (start_day, brand_index, source_index)``: extra entry
    journeys (e.g. converted leads) whose customers are created here; the returned
    ``Sales.external_customer[line_id]`` gives each one's customer index.
    """
    external_entries = external_entries or {}
    horizon = (spec.as_of - spec.history_start).days
    line_index = {ln.id: i for i, ln in enumerate(spec.lines)}
    brand_index = {b: i for i, b in enumerate(spec.brands)}

    # -- customers, one entry journey each ------------------------------------------
    parts = []
    brand_codes = lambda ln: np.array([brand_index[b] for b, _ in ln.brands])  # noqa: E731
    for li, ln in enumerate(spec.lines):
        n = int(round(ln.entry_customers * scale))
        start = rng.integers(0, horizon + 1, n)
        brand = brand_codes(ln)[_choice(rng, ln.brands, n)]
        source = _choice(rng, spec.first_sources, n)
        external = np.zeros(n, bool)
        ext = external_entries.get(ln.id)
        if ext is not None:
            start = np.concatenate([start, ext[0]])
            brand = np.concatenate([brand, ext[1]])
            source = np.concatenate([source, ext[2]])
            external = np.concatenate([external, np.ones(ext[0].size, bool)])
        m = start.size
        female = rng.random(m) < ln.demography.female_share
        age = _ages(rng, ln.demography, m)
        parts.append(dict(line=np.full(m, li), start=start.astype(np.int64), brand=brand.astype(np.int64),
                          source=source, female=female, age=age, external=external))
    cat = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
    n_cust = cat["start"].size
    gender = np.where(cat["female"], "F", "M").astype(object)
    birth_year = spec.as_of.year - cat["age"]
    city = np.array([c for c, _ in spec.cities], dtype=object)[_choice(rng, spec.cities, n_cust)]
    first_source = np.array([s for s, _ in spec.first_sources], dtype=object)[cat["source"]]
    external_customer = {
        ln.id: np.flatnonzero(cat["external"] & (cat["line"] == li))
        for li, ln in enumerate(spec.lines) if ln.id in external_entries
    }

    j_customer = [np.arange(n_cust)]
    j_line = [cat["line"]]
    j_brand = [cat["brand"]]
    j_start = [cat["start"]]
    j_rule = [np.full(n_cust, -1)]

    # -- cross journeys: planted rates from the entry line only ------------------------
    age_now = cat["age"]
    for ri, rule in enumerate(spec.cross_rules):
        frm = np.flatnonzero(cat["line"] == line_index[rule.from_line])
        in_group = np.zeros(frm.size, bool)
        if rule.group is not None:
            g, lo, hi = rule.group
            in_group = (age_now[frm] >= lo) & (age_now[frm] <= hi)
            if g is not None:
                in_group &= gender[frm] == g
        rate = np.where(in_group, rule.group_rate, rule.other_rate)
        takes = rng.random(frm.size) < rate
        delay = rng.integers(rule.delay_days[0], rule.delay_days[1] + 1, frm.size)
        start = cat["start"][frm] + delay
        ok = takes & (start <= horizon)
        who = frm[ok]
        if rule.brands is None:
            brand = cat["brand"][who]
        else:
            brand = np.array([brand_index[b] for b, _ in rule.brands])[_choice(rng, rule.brands, who.size)]
        j_customer.append(who)
        j_line.append(np.full(who.size, line_index[rule.to_line]))
        j_brand.append(brand)
        j_start.append(start[ok])
        j_rule.append(np.full(who.size, ri))
    j_customer = np.concatenate(j_customer)
    j_line = np.concatenate(j_line)
    j_brand = np.concatenate(j_brand)
    j_start = np.concatenate(j_start)
    j_rule = np.concatenate(j_rule)
    n_j = j_customer.size

    # -- staff and location, sticky per journey -----------------------------------------
    staff_names: list[str] = []
    staff_lookup: dict[str, int] = {}
    j_staff = np.full(n_j, -1)
    for li, ln in enumerate(spec.lines):
        for b, options in ln.staff.items():
            for name, _ in options:
                if name not in staff_lookup:
                    staff_lookup[name] = len(staff_names)
                    staff_names.append(name)
            sel = np.flatnonzero((j_line == li) & (j_brand == brand_index[b]))
            codes = np.array([staff_lookup[nm] for nm, _ in options])
            j_staff[sel] = codes[_choice(rng, options, sel.size)]
    location_names: list[str] = []
    j_location = np.full(n_j, -1)
    for b, options in spec.locations.items():
        base = len(location_names)
        location_names += [nm for nm, _ in options]
        sel = np.flatnonzero(j_brand == brand_index[b])
        j_location[sel] = base + _choice(rng, options, sel.size)
    if spec.online_location is not None:
        location_names.append(spec.online_location)

    # -- visits, line by line, all journeys of a line at once ---------------------------
    v_j, v_no, v_day = [], [], []
    for li, ln in enumerate(spec.lines):
        sel = np.flatnonzero(j_line == li)
        schedule = median_gap_schedule(list(ln.stage_starts), list(ln.stage_medians), 40)
        vis = simulate_journeys(j_start[sel], np.array(ln.p_return), schedule, spec.gap_sigma,
                                spec.min_gap, spec.max_gap, horizon, rng)
        v_j.append(sel[vis.journey])
        v_no.append(vis.visit_no)
        v_day.append(vis.day)
    v_journey = np.concatenate(v_j)
    v_no = np.concatenate(v_no)
    v_day = np.concatenate(v_day)
    order = np.lexsort((v_no, v_journey))
    v_journey, v_no, v_day = v_journey[order], v_no[order], v_day[order]
    n_v = v_journey.size

    # channel: each journey prefers one channel and keeps it on 90% of visits
    channel_names: list[str] = []
    channel_lookup: dict[str, int] = {}
    for ln in spec.lines:
        for c, _ in ln.channels:
            if c not in channel_lookup:
                channel_lookup[c] = len(channel_names)
                channel_names.append(c)
    j_channel = np.zeros(n_j, dtype=np.int64)
    v_channel = np.zeros(n_v, dtype=np.int64)
    v_line = j_line[v_journey]
    for li, ln in enumerate(spec.lines):
        codes = np.array([channel_lookup[c] for c, _ in ln.channels])
        sel = np.flatnonzero(j_line == li)
        j_channel[sel] = codes[_choice(rng, ln.channels, sel.size)]
        vsel = np.flatnonzero(v_line == li)
        switch = (rng.random(vsel.size) < 0.1) & (codes.size > 1)
        other = codes[_choice(rng, ln.channels, vsel.size)]
        v_channel[vsel] = np.where(switch, other, j_channel[v_journey[vsel]])

    # -- rows: 1-3 per visit, first row a main service, further rows extras ------------
    n_rows = np.empty(n_v, dtype=np.int64)
    service_names: list[str] = []
    line_main: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    for li, ln in enumerate(spec.lines):
        vsel = np.flatnonzero(v_line == li)
        first = v_no[vsel] == 1
        k_first = 1 + rng.choice(len(ln.first_rows), size=vsel.size, p=np.array(ln.first_rows))
        k_later = 1 + rng.choice(len(ln.later_rows), size=vsel.size, p=np.array(ln.later_rows))
        n_rows[vsel] = np.where(first, k_first, k_later)
    r_visit = np.repeat(np.arange(n_v), n_rows)
    first_row = np.r_[0, np.cumsum(n_rows)[:-1]]
    r_pos = np.arange(r_visit.size) - first_row[r_visit]  # 0 for the main row
    r_service = np.empty(r_visit.size, dtype=np.int64)
    r_price = np.empty(r_visit.size)
    r_line = v_line[r_visit]
    r_brand = j_brand[v_journey[r_visit]]
    for li, ln in enumerate(spec.lines):
        base_main = len(service_names)
        service_names += [s.name for s in ln.main_services]
        base_extra = len(service_names)
        service_names += [s.name for s in ln.extra_services]
        main_p = np.array([s.price for s in ln.main_services])
        extra_p = np.array([s.price for s in ln.extra_services])
        main_w = np.array([s.weight for s in ln.main_services])
        sel_main = np.flatnonzero((r_line == li) & (r_pos == 0))
        pick = rng.choice(main_p.size, size=sel_main.size, p=main_w / main_w.sum())
        r_service[sel_main] = base_main + pick
        r_price[sel_main] = main_p[pick]
        sel_extra = np.flatnonzero((r_line == li) & (r_pos > 0))
        if sel_extra.size:
            # distinct extras within a visit: a random start, then consecutive entries
            startx = rng.integers(0, extra_p.size, n_v)[r_visit[sel_extra]]
            pick = (startx + r_pos[sel_extra] - 1) % extra_p.size
            r_service[sel_extra] = base_extra + pick
            r_price[sel_extra] = extra_p[pick]
        for b, mult in ln.price_multiplier.items():
            r_price[(r_line == li) & (r_brand == brand_index[b])] *= mult
    disc = np.array([d for d, _ in spec.discounts])
    disc_p = np.array([p for _, p in spec.discounts])
    factor = 1.0 - disc[rng.choice(disc.size, size=r_visit.size, p=disc_p / disc_p.sum())]
    qty_p = np.array(spec.qty_probs)
    r_qty = 1 + rng.choice(qty_p.size, size=r_visit.size, p=qty_p / qty_p.sum())
    unit = np.round(r_price * factor / spec.money_step) * spec.money_step - spec.price_ending
    r_amount = unit * r_qty
    r_amount = np.round(r_amount, 2)

    return Sales(
        gender=gender, birth_year=birth_year, city=city, first_source=first_source,
        entry_line=cat["line"], entry_day=cat["start"], home_brand=cat["brand"],
        j_customer=j_customer, j_line=j_line, j_brand=j_brand, j_staff=j_staff,
        j_location=j_location, j_start=j_start, j_cross_rule=j_rule,
        v_journey=v_journey, v_no=v_no, v_day=v_day, v_channel=v_channel,
        r_visit=r_visit, r_service=r_service, r_qty=r_qty, r_amount=r_amount,
        staff_names=np.array(staff_names, dtype=object),
        location_names=np.array(location_names, dtype=object),
        service_names=np.array(service_names, dtype=object),
        channel_names=np.array(channel_names, dtype=object),
        external_customer=external_customer,
    )
