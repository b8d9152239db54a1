from app.models.db_models import Patient, Session, User

__all__ = ["Patient", "Session", "User"]
