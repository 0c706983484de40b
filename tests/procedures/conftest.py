from tests.procedures.helpers import family  # noqa: F401 -- the fixture, shared by the package
