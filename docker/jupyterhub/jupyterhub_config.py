"""JupyterHub for a class of the ecom-dbt-tutorial: each learner's JupyterLab gets their own settings.

`ecom-tutorial class setup --roster FILE` wrote, for every learner NAME, `<class dir>/settings/NAME.env`
(their database login, schema, project folder) and a copy of the course in `<class dir>/projects/NAME`.
This recipe puts those settings into the environment of NAME's server and opens JupyterLab in their
copy, so `ecom-tutorial`, dbt and the notebooks connect as that learner without any setup on their side.
A hub user's name is their learner name.

Run it with the class folder in ECOM_CLASS_DIR (docker/jupyterhub/README.md):

    ECOM_CLASS_DIR=/srv/class jupyterhub -f docker/jupyterhub/jupyterhub_config.py

To change more than the defaults below, keep your own config file that starts with
`load_subconfig("/path/to/docker/jupyterhub/jupyterhub_config.py")` and then sets what differs.
"""

import os
from pathlib import Path

from tornado import web

from ecom_tutorial.classroom import NAME_PATTERN, read_settings_file, settings_file

c = get_config()  # noqa: F821 (JupyterHub defines get_config in its config files)

# The class folder, checked once at start: a typo would otherwise only show when a learner logs in.
_class_dir = os.environ.get("ECOM_CLASS_DIR", "")
if not _class_dir:
    raise SystemExit(
        "ECOM_CLASS_DIR is not set: set it to the class folder of `ecom-tutorial class setup` "
        "(the one with settings/ and projects/), e.g. ECOM_CLASS_DIR=/srv/class jupyterhub -f ..."
    )
CLASS_DIR = Path(_class_dir).expanduser().resolve()
if not CLASS_DIR.is_dir():
    raise SystemExit(
        f"ECOM_CLASS_DIR={_class_dir} is not a folder: run `ecom-tutorial class setup --roster FILE` first, "
        "or point ECOM_CLASS_DIR at the class folder it made."
    )


def _not_on_the_roster(name: str) -> web.HTTPError:
    message = (
        f"{name} is not on the class roster: ask your teacher to add them with "
        "`ecom-tutorial class setup --roster ...`."
    )
    error = web.HTTPError(403, message)
    error.jupyterhub_message = message  # what the hub's own pages show the learner
    return error


def learner_settings(spawner):
    """Before a server starts: the learner's settings into its environment, their project as its folder.

    The file is read at every start, so learners added (or reset) by `class setup` need no hub restart.
    """
    name = spawner.user.name
    path = settings_file(CLASS_DIR, name)
    if not NAME_PATTERN.fullmatch(name) or not path.is_file():
        raise _not_on_the_roster(name)
    settings = read_settings_file(path)
    spawner.environment = {**spawner.environment, **settings}  # a new dict: nothing shared between learners
    # JupyterLab opens here, where notebooks/ and dbt_project/ are (JupyterHub passes it as JUPYTERHUB_ROOT_DIR).
    spawner.notebook_dir = settings["ECOM_PROJECT_DIR"]


# If you need a pre_spawn_hook of your own, call learner_settings(spawner) from it.
c.Spawner.pre_spawn_hook = learner_settings
c.Spawner.default_url = "/lab"

# Who logs in, and as whom their server runs: JupyterHub's own defaults, written out so you can see them.
# PAM: learners log in with their account on this machine (its name = their learner name), and
# LocalProcessSpawner runs each server as that OS user, so learners cannot read each other's files
# (start the hub as root; each learner's OS user must own their folder in projects/).
# A production hub uses the university's login instead, e.g. `pip install oauthenticator` and
# c.JupyterHub.authenticator_class = "generic-oauth" (or "github", "azuread", ...), or "ldapauthenticator",
# with a spawner that still runs as the learner's own user ("systemdspawner", "sudospawner") or in a
# container ("dockerspawner", "kubespawner": mount the class folder at the same path).
# Never "dummy" or "simple" outside a test: they let anyone log in as anyone and share one OS user.
c.JupyterHub.authenticator_class = "pam"
c.JupyterHub.spawner_class = "localprocess"
# Who may log in: the learners who had a settings file when the hub started (restart it after adding some).
c.Authenticator.allowed_users = {path.stem for path in (CLASS_DIR / "settings").glob("*.env")}
# c.Authenticator.admin_users = {"your-login"}  # the teacher: sees every learner's server in the admin page
