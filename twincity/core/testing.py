"""The shared cast of PRODUCT.md, for every test: alice, bob, bella, gary, owen, clara, olivia, charlie."""

from datetime import date

from twincity.accounts.models import City, Organisation, User
from twincity.enterprises.models import Enterprise

PASSWORD = "twincity-test-pw"

# Real, valid codes (GB 32100-2015 check characters) of test companies.
ALICE_CODE = "91500107MA5YP4QX2A"
BOB_CODE = "91510100MA6CGNB36L"


class Cast:
    """Organisations and users of the personas. Build with Cast.create() inside a test transaction."""

    @classmethod
    def create(cls) -> "Cast":
        cast = cls()
        org = Organisation.objects.create
        cast.alice_org = org(name="重庆金凤微电子科技有限公司", kind=Organisation.Kind.ENTERPRISE, city=City.CHONGQING)
        cast.bob_org = org(name="成都天府星云软件有限公司", kind=Organisation.Kind.ENTERPRISE, city=City.CHENGDU)
        cast.bank_a = org(name="重庆农村商业银行", kind=Organisation.Kind.BANK)
        cast.bank_a_branch = org(name="重庆农村商业银行科学城支行", kind=Organisation.Kind.BANK, city=City.CHONGQING,
                                 parent=cast.bank_a)
        cast.bank_b = org(name="成都银行", kind=Organisation.Kind.BANK)
        cast.bank_b_branch = org(name="成都银行高新支行", kind=Organisation.Kind.BANK, city=City.CHENGDU,
                                 parent=cast.bank_b)
        cast.guarantor = org(name="重庆科学城融资担保有限公司", kind=Organisation.Kind.GUARANTOR, city=City.CHONGQING)
        cast.institute = org(name="重庆大学分析测试中心", kind=Organisation.Kind.INSTITUTE, city=City.CHONGQING)
        cast.office = org(name="重庆高新区政务服务中心", kind=Organisation.Kind.GOVERNMENT, city=City.CHONGQING)
        cast.committee = org(name="西部(重庆)科学城管委会", kind=Organisation.Kind.GOVERNMENT, city=City.CHONGQING)

        def user(username, role, organisation, display):
            return User.objects.create_user(
                username, password=PASSWORD, role=role, organisation=organisation, display_name=display
            )

        cast.alice = user("alice", User.Role.ENTERPRISE_USER, cast.alice_org, "Alice 艾丽")
        cast.bob = user("bob", User.Role.ENTERPRISE_USER, cast.bob_org, "Bob 鲍勃")
        cast.bella = user("bella", User.Role.BANK_OFFICER, cast.bank_a_branch, "Bella 贝拉")
        cast.bruno = user("bruno", User.Role.BANK_OFFICER, cast.bank_b_branch, "Bruno 布鲁诺")
        cast.gary = user("gary", User.Role.GUARANTEE_OFFICER, cast.guarantor, "Gary 盖瑞")
        cast.owen = user("owen", User.Role.INSTRUMENT_OWNER, cast.institute, "Owen 欧文")
        cast.clara = user("clara", User.Role.CLERK, cast.office, "Clara 克拉拉")
        cast.olivia = user("olivia", User.Role.ADMINISTRATOR, cast.committee, "Olivia 奥利维亚")
        cast.charlie = User.objects.create_user("charlie", password=PASSWORD)

        cast.alice_co = Enterprise.objects.create(
            credit_code=ALICE_CODE, name=cast.alice_org.name, city="chongqing", district="高新区",
            registered_on=date(2018, 5, 9), industry_cluster="ic", industry_code="C3973", size_class="small",
            organisation=cast.alice_org, ip_I_self=6, ip_II=14,
        )
        cast.bob_co = Enterprise.objects.create(
            credit_code=BOB_CODE, name=cast.bob_org.name, city="chengdu", district="高新区",
            registered_on=date(2016, 3, 1), industry_cluster="ict", industry_code="I6513", size_class="medium",
            organisation=cast.bob_org, ip_I_self=3, ip_II=40,
        )
        return cast
