"""Modal dialogs with typed results (`ModalScreen[T]`): confirmations, deleting a job, starting a job."""
