"""The Prefect floor: a flow process with two no-op tasks, against the same server as kcity."""

from prefect import flow, task


@task
def nothing(n: int) -> int:
    return n


@flow(name="bench-noop")
def noop() -> int:
    return nothing(1) + nothing(2)


if __name__ == "__main__":
    noop()
