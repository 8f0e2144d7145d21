"""manage.py seed_demo [--enterprises N] [--seed S] [--reset]

Loads the demo data once: a database that already has enterprises or the demo users is left as it is, so
`scripts/serve` can run this on every start. `--reset` replaces the enterprise registry (organisations and
users are kept and brought back to their demo state).
"""

from django.core.management.base import BaseCommand, CommandError

from twincity.demo import services as demo


class Command(BaseCommand):
    help = (
        "Load deterministic demo data: the personas and their organisations, banks, guarantors, institutes and "
        "offices, and N enterprises in Chongqing and Chengdu with three years of declarations and qualifications. "
        "Does nothing when the database already has data, unless --reset."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--enterprises", type=int, default=demo.DEFAULT_ENTERPRISES,
                            help=f"number of enterprises, the two persona companies included "
                                 f"(default {demo.DEFAULT_ENTERPRISES})")
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED,
                            help=f"random seed; the same seed gives the same data (default {demo.DEFAULT_SEED})")
        parser.add_argument("--reset", action="store_true",
                            help="delete every enterprise, declaration and qualification first, then load")

    def handle(self, *args, enterprises: int, seed: int, reset: bool, **options) -> None:
        if enterprises < 2:
            raise CommandError("--enterprises must be at least 2 (the persona companies)")
        result = demo.seed(enterprises=enterprises, seed=seed, force_reset=reset)
        if not result.seeded:
            self.stdout.write(f"seed_demo: nothing to do ({result.reason}); use --reset to replace the registry.")
            return
        if options.get("verbosity", 1) < 1:
            return
        cities = ", ".join(f"{city} {count}" for city, count in sorted(result.by_city.items()))
        self.stdout.write(self.style.SUCCESS(
            f"seed_demo: {result.enterprises} enterprises ({cities}), {result.declarations} declarations "
            f"({result.flagged} flagged), {result.qualifications} qualifications, {result.products} financial products, {result.cases} financing cases, {result.guarantees} guarantees, {result.instruments} instruments, {result.service_cases} public-service cases, {result.organisations} "
            f"organisations, {result.users} users in {result.seconds:.1f}s (seed {seed})"
        ))
        self.stdout.write(f"\nDemo logins (password '{demo.DEMO_PASSWORD}' for all):")
        for persona in demo.PERSONAS:
            role = persona.role or "(no role)"
            self.stdout.write(f"  {persona.username:<8} {role:<18} {persona.who}")
