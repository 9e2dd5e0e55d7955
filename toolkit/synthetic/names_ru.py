"""Small Russian name lists for synthetic patients and staff (no real people)."""

from __future__ import annotations

import numpy as np
import pandas as pd

SURNAMES = (
    "Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколов", "Михайлов",
    "Новиков", "Фёдоров", "Морозов", "Волков", "Алексеев", "Лебедев", "Семёнов", "Егоров",
    "Павлов", "Козлов", "Степанов", "Николаев", "Орлов", "Андреев", "Макаров", "Никитин",
    "Захаров", "Зайцев", "Соловьёв", "Борисов", "Яковлев", "Григорьев", "Романов", "Воробьёв",
    "Сергеев", "Кузьмин", "Фролов", "Александров", "Дмитриев", "Королёв", "Гусев", "Киселёв",
    "Ильин", "Максимов", "Поляков", "Сорокин", "Виноградов", "Ковалёв", "Белов", "Медведев",
    "Антонов", "Тарасов", "Жуков", "Баранов", "Филиппов", "Комаров", "Давыдов", "Беляев",
    "Герасимов", "Богданов", "Осипов", "Сидоров", "Матвеев", "Титов", "Марков", "Миронов",
    "Крылов", "Куликов", "Карпов", "Власов", "Мельников", "Денисов", "Гаврилов", "Тихонов",
    "Казаков", "Афанасьев", "Данилов", "Савельев", "Тимофеев", "Фомин", "Чернов", "Абрамов",
    "Ершов", "Пономарёв", "Лазарев", "Суханов", "Бобров", "Шестаков", "Голубев", "Калинин",
    "Горбунов", "Рябов", "Ефимов", "Журавлёв", "Зуев", "Быков", "Блинов", "Кудрявцев",
    "Гордеев", "Лаптев", "Широков", "Левченко", "Бондаренко", "Ткаченко", "Кравченко", "Высоцкий",
    "Чайковский", "Островский", "Покровский", "Вишневский", "Полянский",
)
FEMALE_NAMES = (
    "Анна", "Мария", "Елена", "Ольга", "Наталья", "Ирина", "Татьяна", "Светлана", "Екатерина",
    "Юлия", "Анастасия", "Марина", "Дарья", "Ксения", "Виктория", "Алина", "Полина", "Вера",
    "Людмила", "Галина", "Надежда", "Валентина", "Софья", "Алёна", "Кристина", "Евгения",
    "Лариса", "Оксана", "Яна", "Вероника", "Милана", "Диана", "Жанна", "Инна", "Нина",
)
MALE_NAMES = (
    "Александр", "Сергей", "Андрей", "Дмитрий", "Алексей", "Михаил", "Иван", "Максим",
    "Евгений", "Владимир", "Николай", "Павел", "Артём", "Денис", "Игорь", "Олег", "Роман",
    "Кирилл", "Антон", "Виктор", "Юрий", "Константин", "Илья", "Никита", "Вадим",
)
PATRONYMIC_BASES = (
    ("Александров", "Александрович"), ("Сергеев", "Сергеевич"), ("Андреев", "Андреевич"),
    ("Дмитриев", "Дмитриевич"), ("Алексеев", "Алексеевич"), ("Михайлов", "Михайлович"),
    ("Иванов", "Иванович"), ("Владимиров", "Владимирович"), ("Николаев", "Николаевич"),
    ("Павлов", "Павлович"), ("Игорев", "Игоревич"), ("Олегов", "Олегович"),
    ("Викторов", "Викторович"), ("Юрьев", "Юрьевич"), ("Евгеньев", "Евгеньевич"),
    ("Петров", "Петрович"), ("Борисов", "Борисович"), ("Анатольев", "Анатольевич"),
    ("Васильев", "Васильевич"), ("Геннадьев", "Геннадьевич"),
)

_TRANSLIT = str.maketrans({
    "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh", "з": "z",
    "и": "i", "й": "y", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r",
    "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts", "ч": "ch", "ш": "sh",
    "щ": "shch", "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "yu", "я": "ya",
})


def female_surname(s: str) -> str:
    if s.endswith("ский") or s.endswith("цкий"):
        return s[:-2] + "ая"
    if s.endswith("ко"):
        return s
    if s.endswith(("ов", "ев", "ёв", "ин")):
        return s + "а"
    return s


def translit(s: str) -> str:
    return s.lower().translate(_TRANSLIT)


def full_names(rng: np.random.Generator, female: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """'Фамилия Имя Отчество' per person and a latin e-mail stem, vectorised over people."""
    n = female.size
    sur = np.array(SURNAMES, dtype=object)
    sur_f = np.array([female_surname(s) for s in SURNAMES], dtype=object)
    si = rng.integers(0, len(SURNAMES), n)
    fi = rng.integers(0, len(FEMALE_NAMES), n)
    mi = rng.integers(0, len(MALE_NAMES), n)
    pi = rng.integers(0, len(PATRONYMIC_BASES), n)
    surname = np.where(female, sur_f[si], sur[si])
    first = np.where(female, np.array(FEMALE_NAMES, dtype=object)[fi], np.array(MALE_NAMES, dtype=object)[mi])
    patr = np.where(female, np.array([b + "на" for b, _ in PATRONYMIC_BASES], dtype=object)[pi],
                    np.array([m for _, m in PATRONYMIC_BASES], dtype=object)[pi])
    fio = surname + " " + first + " " + patr
    lat_sur = np.array([translit(s) for s in SURNAMES], dtype=object)[si]
    lat_first = np.array([translit(s) for s in FEMALE_NAMES], dtype=object)[fi]
    lat_first_m = np.array([translit(s) for s in MALE_NAMES], dtype=object)[mi]
    stem = np.where(female, lat_first, lat_first_m) + "." + lat_sur
    return fio, stem


def phones(rng: np.random.Generator, n: int) -> np.ndarray:
    """Synthetic mobile numbers '+7 9xx xxx-xx-xx' (some written '8 (9xx) xxx-xx-xx')."""
    a = pd.Series(rng.integers(0, 100, n)).astype(str).str.zfill(2)
    b = pd.Series(rng.integers(0, 1000, n)).astype(str).str.zfill(3)
    c = pd.Series(rng.integers(0, 100, n)).astype(str).str.zfill(2)
    d = pd.Series(rng.integers(0, 100, n)).astype(str).str.zfill(2)
    plus = "+7 9" + a + " " + b + "-" + c + "-" + d
    eight = "8 (9" + a + ") " + b + "-" + c + "-" + d
    return np.where(rng.random(n) < 0.8, plus.to_numpy(dtype=object), eight.to_numpy(dtype=object))


def emails(rng: np.random.Generator, stem: np.ndarray) -> np.ndarray:
    domains = np.array(["example.ru", "example.com", "mail.example", "post.example"], dtype=object)
    year = pd.Series(rng.integers(60, 100, stem.size)).astype(str).to_numpy(dtype=object)
    dom = domains[rng.integers(0, domains.size, stem.size)]
    return stem + year + "@" + dom


def staff_short(full: str) -> str:
    """'Соколова Елена Викторовна' -> 'Соколова Е. В.'"""
    s, f, p = full.split()
    return f"{s} {f[0]}. {p[0]}."
