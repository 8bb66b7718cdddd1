from dataclasses import dataclass, field


@dataclass
class Inventory:
    """Stock levels per SKU; quantities never go negative."""

    stock: dict[str, int] = field(default_factory=dict)

    def add(self, sku: str, quantity: int) -> int:
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        self.stock[sku] = self.stock.get(sku, 0) + quantity
        return self.stock[sku]

    def remove(self, sku: str, quantity: int) -> int:
        available = self.stock.get(sku, 0)
        if quantity > available:
            raise ValueError(f"only {available} of {sku} in stock")
        self.stock[sku] = available - quantity
        return self.stock[sku]

    def total(self) -> int:
        return sum(self.stock.values())
