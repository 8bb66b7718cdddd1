import pytest

from demo.inventory import Inventory


def test_add_accumulates():
    inventory = Inventory()
    inventory.add("apple", 3)
    assert inventory.add("apple", 2) == 5


def test_remove_reduces_stock():
    inventory = Inventory({"pear": 4})
    assert inventory.remove("pear", 1) == 3


def test_remove_more_than_available_fails():
    inventory = Inventory({"pear": 1})
    with pytest.raises(ValueError, match="only 1 of pear"):
        inventory.remove("pear", 2)


@pytest.mark.parametrize("quantity", [0, -1])
def test_add_rejects_non_positive(quantity):
    with pytest.raises(ValueError):
        Inventory().add("fig", quantity)


def test_total_sums_every_sku():
    assert Inventory({"a": 1, "b": 2}).total() == 3
