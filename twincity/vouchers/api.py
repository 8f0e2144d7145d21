from ninja import Router

router = Router(tags=["vouchers 科技创新券"])
