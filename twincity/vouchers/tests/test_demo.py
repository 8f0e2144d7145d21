"""The demo's vouchers, made through the services: a Chongqing batch accepted in Chengdu too, a Chengdu batch
accepted in Chengdu only; alice's company holds a Chongqing voucher, bob's a Chengdu one."""

from twincity.accounts.models import Organisation
from twincity.core.models import AuditEntry
from twincity.demo.vouchers import demo_vouchers_load
from twincity.vouchers import access
from twincity.vouchers.models import Voucher, VoucherBatch


def test_the_demo_batches_and_vouchers(cast):
    cd_committee = Organisation.objects.create(name="成都高新区管委会", kind="government", city="chengdu")
    orgs = {"alice_org": cast.alice_org, "bob_org": cast.bob_org, "cq_committee": cast.committee,
            "cd_committee": cd_committee}
    assert demo_vouchers_load(orgs) == 2
    cq, cd = VoucherBatch.objects.order_by("-city")
    assert (cq.city, cq.regions, cq.settlement_mode, cq.office) == (
        "chongqing", ["chengdu", "chongqing"], "direct", cast.committee)
    assert (cd.city, cd.regions, cd.settlement_mode, cd.office) == ("chengdu", ["chengdu"], "reimbursement",
                                                                    cd_committee)
    alices = Voucher.objects.get(holder=cast.alice_org)
    assert (alices.batch, alices.amount, alices.balance) == (cq, 20000, 20000)
    assert Voucher.objects.get(holder=cast.bob_org).batch == cd
    assert access.office_cities(cd.created_by) == ("chengdu",)
    assert AuditEntry.objects.filter(object_type="vouchers.voucher", action="create").count() == 2
    assert demo_vouchers_load(orgs) == 0  # once
    assert Voucher.objects.count() == 2
