"""Style transfer: Gatys optimisation over VGG19 (:mod:`.gatys`), generated looks (:mod:`.looks`) and the
style gallery (:mod:`.gallery`). Qt-free."""
